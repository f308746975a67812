// Exit survey page (admins design; admins and supervisors read results).
// Designer: the tenant's survey or one site's (which replaces the tenant's there); saving
// makes a new version, so past answers keep the meaning they had. Results: responses,
// refusals (under 18; only a count exists), per-question distributions, averages, CSAT,
// and a CSV download. Server: GET/POST /api/v1/survey, GET /api/v1/survey-results(.csv).
// Every label, option and answer is set through textContent only.

import { t } from './strings.js';
import { api, query } from './api.js';
import { h } from './dom.js';
import { pageHead, statusLine, button, errorText } from './ui.js';

const KINDS = ['free_text', 'email', 'single_choice', 'multiple_choice', 'rating', 'number', 'postal_code', 'age', 'birth_date', 'income_band'];
const WITH_OPTIONS = new Set(['single_choice', 'multiple_choice', 'income_band']);

/**
 * @param {HTMLElement} root
 * @param {{me: () => ({role: string})}} ctx
 */
export function createSurveysPage(root, ctx) {
  let rows = [];
  const isAdmin = () => (ctx.me() || {}).role === 'admin';

  // ---- designer ----
  const scope = h('select', { id: 'survey-scope', data: { testid: 'survey-scope' }, on: { change: () => loadDesign() } },
    h('option', { value: '', text: t('survey_scope_tenant') }));
  const list = h('ol', { class: 'survey-questions', data: { testid: 'survey-questions' } });
  const version = h('p', { class: 'muted', data: { testid: 'survey-version' } });
  const designStatus = statusLine('survey-design-status');
  const add = button(t('survey_add_question'), { testid: 'survey-add', onClick: () => { rows.push(row({ kind: 'rating', label: '', required: false, options: [] })); paintRows(true); } });
  const save = button(t('survey_save'), { variant: 'primary', testid: 'survey-save', onClick: () => saveDesign() });
  const designer = h('section', { class: 'survey-card', attrs: { 'aria-labelledby': 'survey-design-title' } },
    h('h2', { class: 'survey-h2', id: 'survey-design-title', text: t('survey_design_heading') }),
    h('p', { class: 'muted', text: t('survey_design_intro') }),
    h('label', { attrs: { for: 'survey-scope' }, text: t('survey_scope') }), scope,
    version, list, h('div', { class: 'survey-actions' }, add, save), designStatus.node);

  // ---- results ----
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
  const from = h('input', { type: 'date', id: 'survey-from', value: monthAgo, data: { testid: 'survey-from' } });
  const to = h('input', { type: 'date', id: 'survey-to', value: today, data: { testid: 'survey-to' } });
  const csv = h('a', { class: 'btn btn-secondary btn-sm', text: t('survey_csv'), data: { testid: 'survey-csv' }, attrs: { download: '' } });
  const summary = h('div', { class: 'survey-summary', data: { testid: 'survey-summary' } });
  const details = h('div', { data: { testid: 'survey-results' } });
  const resultsStatus = statusLine('survey-results-status');
  const results = h('section', { class: 'survey-card', attrs: { 'aria-labelledby': 'survey-results-title' } },
    h('h2', { class: 'survey-h2', id: 'survey-results-title', text: t('survey_results_heading') }),
    h('div', { class: 'survey-range' },
      h('label', { attrs: { for: 'survey-from' }, text: t('survey_from') }), from,
      h('label', { attrs: { for: 'survey-to' }, text: t('survey_to') }), to,
      button(t('survey_show'), { testid: 'survey-show', onClick: () => loadResults() }), csv),
    resultsStatus.node, summary, details);

  root.append(h('div', { class: 'page' },
    pageHead({ title: t('survey_heading'), intro: t('survey_intro') }), designer, results));

  function row(question) {
    const kind = h('select', { attrs: { 'aria-label': t('survey_kind') }, data: { testid: 'survey-kind' } },
      KINDS.map((k) => h('option', { value: k, text: t(`survey_kind_${k}`), selected: k === question.kind })));
    const label = h('input', { type: 'text', value: question.label, attrs: { 'aria-label': t('survey_label'), placeholder: t('survey_label'), dir: 'auto' }, data: { testid: 'survey-label' } });
    const required = h('input', { type: 'checkbox', checked: question.required, data: { testid: 'survey-required' } });
    const options = h('textarea', { rows: 3, value: question.options.join('\n'), attrs: { 'aria-label': t('survey_options'), placeholder: t('survey_options'), dir: 'auto' }, data: { testid: 'survey-options' } });
    const error = h('p', { class: 'field-error', attrs: { 'aria-live': 'polite' } });
    const sync = () => { options.hidden = !WITH_OPTIONS.has(kind.value); };
    kind.addEventListener('change', sync);
    sync();
    const item = { kind, label, required, options, error };
    const move = (delta) => {
      const index = rows.indexOf(item);
      const target = index + delta;
      if (target < 0 || target >= rows.length) return;
      rows.splice(index, 1);
      rows.splice(target, 0, item);
      paintRows(false);
    };
    item.node = h('li', { class: 'survey-question', data: { testid: 'survey-question' } },
      h('div', { class: 'survey-question-main' }, kind, label,
        h('label', { class: 'survey-required' }, required, ` ${t('survey_required')}`)),
      options, error,
      h('div', { class: 'survey-question-tools' },
        button(t('survey_up'), { variant: 'ghost', onClick: () => move(-1) }),
        button(t('survey_down'), { variant: 'ghost', onClick: () => move(1) }),
        button(t('survey_remove'), { variant: 'ghost', onClick: () => { rows = rows.filter((r) => r !== item); paintRows(false); } })));
    return item;
  }

  function paintRows(focusLast) {
    list.replaceChildren(...rows.map((r) => r.node));
    if (!rows.length) list.append(h('li', { class: 'muted', text: t('survey_no_questions') }));
    if (focusLast && rows.length) rows[rows.length - 1].label.focus();
    for (const control of [add, save]) control.disabled = !isAdmin();
  }

  async function loadScopes() {
    if (!isAdmin()) return;
    try {
      const body = await api('/api/v1/sites');
      scope.replaceChildren(h('option', { value: '', text: t('survey_scope_tenant') }),
        ...body.sites.map((site) => h('option', { value: site.id, text: t('survey_scope_site', { name: site.name }) })));
    } catch { /* the tenant's survey still works */ }
  }

  async function loadDesign() {
    designStatus.set(t('loading_page'));
    try {
      const body = await api(`/api/v1/survey${query({ site_id: scope.value })}`);
      const survey = body.survey;
      rows = survey ? survey.questions.map(row) : [];
      version.textContent = survey ? t('survey_version', { n: survey.version }) : t('survey_none');
      paintRows(false);
      designStatus.set('');
    } catch (error) {
      designStatus.set(errorText(error), { error: true });
    }
  }

  async function saveDesign() {
    for (const r of rows) r.error.textContent = '';
    const questions = rows.map((r) => ({
      kind: r.kind.value,
      label: r.label.value,
      required: r.required.checked,
      options: WITH_OPTIONS.has(r.kind.value) ? r.options.value.split('\n').map((o) => o.trim()).filter(Boolean) : [],
    }));
    save.disabled = true;
    try {
      const body = await api('/api/v1/survey', { method: 'POST', body: { site_id: scope.value || null, questions } });
      version.textContent = t('survey_version', { n: body.survey.version });
      rows = body.survey.questions.map(row);
      paintRows(false);
      designStatus.set(t('survey_saved', { n: body.survey.version }));
    } catch (error) {
      // "questions[2]: ..." points at the row; anything else goes to the status line.
      const match = /^questions\[(\d+)\]/.exec((error && error.message) || '');
      if (match && rows[Number(match[1])]) rows[Number(match[1])].error.textContent = error.message;
      designStatus.set(errorText(error), { error: true });
    } finally {
      save.disabled = !isAdmin();
    }
  }

  async function loadResults() {
    const params = query({ from: from.value, to: to.value });
    csv.href = `/api/v1/survey-results.csv${params}`;
    resultsStatus.set(t('loading_page'));
    try {
      const body = await api(`/api/v1/survey-results${params}`);
      summary.replaceChildren(
        stat(t('survey_responses'), String(body.responses), 'survey-responses'),
        stat(t('survey_refused'), String(body.refused_under_18), 'survey-refused'));
      details.replaceChildren(...body.versions.map(versionBlock));
      resultsStatus.set(body.responses ? '' : t('survey_no_responses'));
    } catch (error) {
      resultsStatus.set(errorText(error), { error: true });
    }
  }

  function stat(label, value, testid) {
    return h('div', { class: 'survey-stat' }, h('span', { class: 'muted', text: label }), h('strong', { text: value, data: { testid } }));
  }

  function versionBlock(version) {
    return h('div', { class: 'survey-version-block' },
      h('h3', { text: t('survey_version_results', { n: version.survey.version, count: version.responses }) }),
      version.questions.map((result) => h('div', { class: 'survey-result', data: { testid: 'survey-result', kind: result.question.kind } },
        h('h4', { text: result.question.label, attrs: { dir: 'auto' } }),
        h('p', { class: 'muted', text: t('survey_answered', { n: result.answered }) }),
        result.average !== null && result.average !== undefined
          ? h('p', { text: t('survey_average', { value: result.average.toFixed(2) }), data: { testid: 'survey-average' } }) : null,
        result.csat_percent !== null && result.csat_percent !== undefined
          ? h('p', { text: t('survey_csat', { value: Math.round(result.csat_percent) }), data: { testid: 'survey-csat' } }) : null,
        result.distribution.length
          ? h('ul', { class: 'survey-bars' }, result.distribution.map(([label, count]) => h('li', { data: { testid: 'survey-bar' } },
            h('span', { text: label, attrs: { dir: 'auto' } }),
            h('meter', { min: 0, max: Math.max(1, result.answered), value: count, attrs: { 'aria-label': label } }),
            h('span', { text: String(count) }))))
          : null)));
  }

  return {
    async show() {
      await loadScopes();
      await loadDesign();
      await loadResults();
    },
  };
}
