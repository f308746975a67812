// Departments and routing page (tenant admins): the tenant's routing settings (how the
// general queue is served, the default chat limit per operator, whether operators see who
// monitors them) and its departments (name, routing mode, members): list, add, edit,
// delete. Server: GET/PATCH /api/v1/routing-settings, GET/POST /api/v1/departments,
// PATCH/DELETE /api/v1/departments/{id}, GET /api/v1/operators (members to choose from).

import { t } from './strings.js';
import { api, enc } from './api.js';
import { h, bidi } from './dom.js';
import {
  pageHead, statusLine, dataTable, cell, button, field, switchField, confirmAction, toast, announce, errorText,
} from './ui.js';

export const ROUTING_MODES = ['manual', 'least_busy', 'round_robin'];

/** "Least busy" etc. */
export const routingShort = (mode) => t(`routing_short_${mode}`);

/**
 * @param {HTMLElement} root
 * @param {{onRoleRequired: (error) => void, refreshDepartments: () => void}} ctx
 */
export function createDepartmentsPage(root, ctx) {
  const departments = new Map(); // id → DepartmentDto, by name
  let operators = []; // OperatorDto, enabled ones, to pick members from
  let loading = false;
  let editing = null; // the form being shown: {id|null, form}

  const addButton = button(t('departments_add'), { variant: 'primary', testid: 'department-add', onClick: () => openForm(null) });
  const settings = buildSettingsForm();
  const formSlot = h('div', { class: 'form-slot' });
  const status = statusLine('departments-status');
  const table = dataTable({
    label: t('departments_list_label'),
    testid: 'departments-list',
    columns: [
      { label: t('departments_col_name'), className: 'col-main' },
      { label: t('departments_col_routing'), className: 'col-routing' },
      { label: t('departments_col_members'), className: 'col-members' },
      { label: t('departments_col_actions'), className: 'col-actions' },
    ],
  });
  root.append(h('div', { class: 'page' },
    pageHead({ title: t('departments_heading'), intro: t('departments_intro'), actions: [addButton] }),
    settings.node,
    formSlot,
    table.node,
    status.node));

  async function load() {
    if (loading) return;
    loading = true;
    if (departments.size === 0) status.set(t('loading_page'));
    try {
      const [list, people] = await Promise.all([api('/api/v1/departments'), api('/api/v1/operators')]);
      departments.clear();
      for (const department of list.departments || []) departments.set(department.id, department);
      operators = (people.operators || []).filter((operator) => !operator.disabled);
      render();
      status.set(departments.size === 0 ? t('departments_empty') : '');
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      status.set(t('departments_error', { message: errorText(error) }), { error: true });
    } finally {
      loading = false;
    }
    settings.load();
  }

  const rowOf = (id) => table.body.querySelector(`tr[data-department-id="${CSS.escape(id)}"]`);

  function render() {
    table.body.textContent = '';
    const sorted = [...departments.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const department of sorted) table.body.append(renderRow(department));
  }

  function memberNames(department) {
    const names = new Map(operators.map((operator) => [operator.id, operator.display_name]));
    return department.operator_ids.map((id) => names.get(id)).filter(Boolean);
  }

  function renderRow(department) {
    const names = memberNames(department);
    const edit = button(t('departments_edit'), {
      variant: 'secondary', testid: 'department-edit',
      attrs: { 'aria-label': t('departments_edit_label', { name: department.name }) },
      onClick: () => openForm(department.id),
    });
    const remove = confirmAction({
      label: t('departments_delete'), question: t('departments_delete_q', { name: department.name }),
      confirmLabel: t('departments_delete'), testid: 'department-delete',
      onConfirm: () => removeDepartment(department),
    });
    return h('tr', { data: { testid: 'department-row', departmentId: department.id, routing: department.routing } },
      cell('col-main', bidi(department.name, 'person-name', 'department-name')),
      cell('col-routing', h('span', { class: `tag tag-routing tag-routing-${department.routing}`, text: routingShort(department.routing), data: { testid: 'department-routing' } })),
      cell('col-members', names.length
        ? h('ul', { class: 'chips', data: { testid: 'department-members' } }, names.map((name) => h('li', { class: 'chip' }, h('bdi', { text: name, attrs: { dir: 'auto' } }))))
        : h('span', { class: 'muted', text: t('departments_no_members'), data: { testid: 'department-members' } })),
      cell('col-actions', h('span', { class: 'row-actions' }, edit, remove.node)));
  }

  async function removeDepartment(department) {
    try {
      await api(`/api/v1/departments/${enc(department.id)}`, { method: 'DELETE' });
      departments.delete(department.id);
      rowOf(department.id)?.remove();
      if (editing && editing.id === department.id) closeForm(false);
      status.set(departments.size === 0 ? t('departments_empty') : '');
      announce(t('departments_deleted', { name: department.name }));
      ctx.refreshDepartments();
      addButton.focus();
    } catch (error) {
      if (error.code === 'role_required') ctx.onRoleRequired(error);
      toast(errorText(error), { kind: 'error' });
    }
  }

  // ------------------------------------------------------------------ Department form

  function openForm(id) {
    if (editing) closeForm(false);
    const department = id ? departments.get(id) : null;
    const form = departmentForm(department);
    editing = { id, form };
    formSlot.append(form.node);
    addButton.hidden = true;
    form.focus();
  }

  function closeForm(refocus) {
    if (!editing) return;
    const { id } = editing;
    editing.form.node.remove();
    editing = null;
    addButton.hidden = false;
    if (refocus) (id && rowOf(id)?.querySelector('[data-testid=department-edit]') || addButton).focus();
  }

  function departmentForm(department) {
    const isNew = !department;
    const name = field({
      label: t('departments_field_name'), name: 'department-name', value: department ? department.name : '',
      hint: t('departments_field_name_hint'), testid: 'department-form-name', attrs: { maxlength: '80', autocomplete: 'off' },
    });
    const routing = field({
      label: t('departments_field_routing'), name: 'department-routing', kind: 'select', value: department ? department.routing : 'manual',
      testid: 'department-form-routing', options: ROUTING_MODES.map((mode) => ({ value: mode, label: t(`routing_${mode}`) })),
    });
    const chosen = new Set(department ? department.operator_ids : []);
    const boxes = operators.map((operator) => {
      const input = h('input', { type: 'checkbox', value: operator.id, checked: chosen.has(operator.id), id: `member-${department ? department.id : 'new'}-${operator.id}` });
      return {
        input,
        node: h('label', { class: 'member-option', attrs: { for: input.id }, data: { testid: 'department-member', operatorId: operator.id } },
          input, h('bdi', { text: operator.display_name, attrs: { dir: 'auto' } }), h('span', { class: 'muted', text: operator.email, attrs: { dir: 'ltr' } })),
      };
    });
    const membersId = `members-${department ? department.id : 'new'}`;
    const members = h('fieldset', { class: 'members', data: { testid: 'department-form-members' }, attrs: { 'aria-describedby': `${membersId}-hint` } },
      h('legend', { text: t('departments_field_members') }),
      h('p', { class: 'field-hint', id: `${membersId}-hint`, text: t('departments_members_hint') }),
      boxes.length ? h('div', { class: 'member-grid' }, boxes.map((box) => box.node)) : h('p', { class: 'muted', text: t('departments_no_operators') }));
    const formError = h('p', { class: 'form-error', attrs: { role: 'alert' }, data: { testid: 'department-form-error' } });
    const submitLabel = isNew ? t('departments_submit_new') : t('departments_submit_edit');
    const submit = button(submitLabel, { variant: 'primary', size: '', type: 'submit', testid: 'department-form-submit' });
    const cancel = button(t('cancel'), { variant: 'ghost', size: '', testid: 'department-form-cancel', onClick: () => closeForm(true) });
    const titleId = `department-form-title-${department ? department.id : 'new'}`;
    const node = h('form', { class: 'form-card', attrs: { novalidate: '', 'aria-labelledby': titleId }, data: { testid: 'department-form' } },
      h('h2', { class: 'form-card-title', id: titleId, text: isNew ? t('departments_form_new') : t('departments_form_edit', { name: department.name }) }),
      h('div', { class: 'form-grid' }, name.node, routing.node, h('div', { class: 'span-2' }, members)),
      formError,
      h('div', { class: 'form-actions' }, cancel, submit));
    node.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeForm(true); });
    node.addEventListener('submit', async (event) => {
      event.preventDefault();
      name.clear();
      formError.textContent = '';
      const body = {
        name: name.input.value.trim(),
        routing: routing.input.value,
        operator_ids: boxes.filter((box) => box.input.checked).map((box) => box.input.value),
      };
      if (!body.name) {
        name.setError(t('departments_need_name'));
        name.input.focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = t('saving');
      try {
        const saved = isNew
          ? await api('/api/v1/departments', { method: 'POST', body })
          : await api(`/api/v1/departments/${enc(department.id)}`, { method: 'PATCH', body });
        departments.set(saved.id, saved);
        closeForm(false);
        render();
        status.set('');
        const row = rowOf(saved.id);
        announce(t(isNew ? 'departments_added' : 'departments_saved', { name: saved.name }), row);
        row?.querySelector('[data-testid=department-edit]')?.focus();
        ctx.refreshDepartments();
      } catch (error) {
        if (error.code === 'department_name_taken') {
          name.setError(t('departments_name_taken'));
          name.input.focus();
        } else if (error.code === 'invalid_request' && /name/i.test(error.message || '')) {
          name.setError(errorText(error));
          name.input.focus();
        } else {
          if (error.code === 'role_required') ctx.onRoleRequired(error);
          formError.textContent = errorText(error);
        }
      } finally {
        submit.disabled = false;
        submit.textContent = submitLabel;
      }
    });
    return { node, focus: () => name.input.focus() };
  }

  // ------------------------------------------------------------------ Routing settings

  function buildSettingsForm() {
    const general = field({
      label: t('routing_field_general'), name: 'routing-general', kind: 'select', value: 'manual', hint: t('routing_field_general_hint'),
      testid: 'routing-general', options: ROUTING_MODES.map((mode) => ({ value: mode, label: t(`routing_${mode}`) })),
    });
    const maxChats = field({
      label: t('routing_field_max_chats'), name: 'routing-max-chats', type: 'number', hint: t('routing_field_max_chats_hint'),
      testid: 'routing-max-chats', attrs: { min: '1', max: '100', step: '1', inputmode: 'numeric' },
    });
    const monitoring = switchField({
      label: t('routing_field_monitoring'), hint: t('routing_field_monitoring_hint'), testid: 'routing-show-monitoring', name: 'show-monitoring',
    });
    const formError = h('p', { class: 'form-error', attrs: { role: 'alert' }, data: { testid: 'routing-form-error' } });
    const submit = button(t('routing_save'), { variant: 'primary', size: '', type: 'submit', testid: 'routing-save' });
    const node = h('form', { class: 'form-card routing-card', attrs: { novalidate: '', 'aria-labelledby': 'routing-title' }, data: { testid: 'routing-form' } },
      h('h2', { class: 'form-card-title', id: 'routing-title', text: t('routing_heading') }),
      h('div', { class: 'form-grid' }, general.node, maxChats.node, h('div', { class: 'span-2' }, monitoring.node)),
      formError,
      h('div', { class: 'form-actions' }, submit));
    node.addEventListener('submit', async (event) => {
      event.preventDefault();
      maxChats.clear();
      formError.textContent = '';
      const raw = maxChats.input.value.trim();
      const limit = raw === '' ? null : Number(raw);
      if (limit !== null && !(Number.isInteger(limit) && limit >= 1 && limit <= 100)) {
        maxChats.setError(t('routing_bad_limit'));
        maxChats.input.focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = t('saving');
      try {
        const saved = await api('/api/v1/routing-settings', {
          method: 'PATCH',
          body: { routing: general.input.value, max_chats_per_operator: limit, show_monitoring: monitoring.input.checked },
        });
        fill(saved);
        announce(t('routing_saved'), node);
      } catch (error) {
        if (error.code === 'invalid_request' && /max_chats|limit/i.test(error.message || '')) {
          maxChats.setError(errorText(error));
          maxChats.input.focus();
        } else {
          if (error.code === 'role_required') ctx.onRoleRequired(error);
          formError.textContent = errorText(error);
        }
      } finally {
        submit.disabled = false;
        submit.textContent = t('routing_save');
      }
    });
    function fill(settings) {
      general.input.value = settings.routing;
      maxChats.input.value = settings.max_chats_per_operator == null ? '' : String(settings.max_chats_per_operator);
      monitoring.input.checked = !!settings.show_monitoring;
      node.dataset.loaded = 'true';
    }
    return {
      node,
      async load() {
        // Never overwrite what the admin is typing.
        if (node.contains(document.activeElement) && node.dataset.loaded) return;
        try {
          fill(await api('/api/v1/routing-settings'));
        } catch (error) {
          formError.textContent = t('routing_error', { message: errorText(error) });
        }
      },
    };
  }

  return { show() { load(); } };
}
