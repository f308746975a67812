// Reports page (admins and supervisors): conversations per day with missed chats, busiest
// hours, time to first response and conversation length (median, 90th percentile),
// chats per operator and exit survey CSAT over a range of UTC days, each table with a CSV
// download. Server: GET /api/v1/reports, GET /api/v1/reports/{table}.csv; definitions in
// docs/reports.md. Charts are SVG built here with createElementNS (no library, no CDN);
// every label, including operator names and survey questions, goes in through
// textContent only.

import { t } from './strings.js';
import { api, query } from './api.js';
import { h } from './dom.js';
import { pageHead, statusLine, button, errorText } from './ui.js';

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (and optional text, set as textContent). */
function s(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A vertical bar chart. `series`: [{key, label, className}] drawn side by side per item;
 * `items`: [{label, short, values: {key: number}}].
 */
function barChart({ title, items, series, testid }) {
  const width = 720;
  const height = 220;
  const left = 36;
  const bottom = 28;
  const top = 12;
  const plotW = width - left - 8;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...items.flatMap((item) => series.map((one) => item.values[one.key] || 0)));
  const step = plotW / Math.max(1, items.length);
  const barW = Math.max(1, (step * 0.8) / series.length);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'data-testid': testid });
  svg.append(s('title', {}, title));
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotH - fraction * plotH;
    svg.append(s('line', { x1: left, x2: width - 8, y1: y, y2: y, class: 'chart-grid' }));
    svg.append(s('text', { x: left - 6, y: y + 4, class: 'chart-axis', 'text-anchor': 'end' }, String(Math.round(max * fraction))));
  }
  const labelEvery = Math.ceil(items.length / 12);
  items.forEach((item, index) => {
    series.forEach((one, position) => {
      const value = item.values[one.key] || 0;
      const barH = (value / max) * plotH;
      const x = left + index * step + step * 0.1 + position * barW;
      const bar = s('rect', { x, y: top + plotH - barH, width: barW, height: Math.max(0, barH), class: `chart-bar ${one.className}` });
      bar.append(s('title', {}, `${item.label}: ${one.label} ${value}`));
      svg.append(bar);
    });
    if (index % labelEvery === 0) {
      svg.append(s('text', { x: left + index * step + step / 2, y: height - 10, class: 'chart-axis', 'text-anchor': 'middle' }, item.short));
    }
  });
  const legend = h('ul', { class: 'chart-legend' },
    series.map((one) => h('li', {}, h('span', { class: `chart-key ${one.className}`, attrs: { 'aria-hidden': 'true' } }), one.label)));
  return h('figure', { class: 'chart-figure' }, svg, series.length > 1 ? legend : null);
}

/** A horizontal bar chart: [{label, value}] (labels may be names typed by people). */
function hbarChart({ title, rows, testid }) {
  const width = 720;
  const rowH = 26;
  const labelW = 180;
  const height = Math.max(1, rows.length) * rowH + 8;
  const max = Math.max(1, ...rows.map((row) => row.value));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'data-testid': testid });
  svg.append(s('title', {}, title));
  rows.forEach((row, index) => {
    const y = 4 + index * rowH;
    svg.append(s('text', { x: labelW - 8, y: y + 16, class: 'chart-label', 'text-anchor': 'end' }, row.label));
    const barW = ((width - labelW - 60) * row.value) / max;
    svg.append(s('rect', { x: labelW, y: y + 3, width: Math.max(1, barW), height: rowH - 8, class: 'chart-bar chart-main' }));
    svg.append(s('text', { x: labelW + barW + 6, y: y + 16, class: 'chart-axis' }, String(row.value)));
  });
  return h('figure', { class: 'chart-figure' }, svg);
}

function table(head, rows, testid) {
  return h('table', { class: 'report-table', data: { testid } },
    h('thead', {}, h('tr', {}, head.map((cell) => h('th', { attrs: { scope: 'col' }, text: cell })))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => h('td', { text: String(cell), attrs: { dir: 'auto' } }))))));
}

/** A page address short enough for a chart label: the path, cut to 28 characters. */
function shortPage(url) {
  let path = url;
  try { path = new URL(url).pathname; } catch { /* not absolute: keep it */ }
  return path.length > 28 ? `${path.slice(0, 27)}…` : path;
}

function seconds(value) {
  if (value === null || value === undefined) return '–';
  if (value < 10) return t('report_seconds', { n: value.toFixed(1) });
  if (value < 90) return t('report_seconds', { n: Math.round(value) });
  if (value < 5400) return t('report_minutes', { n: (value / 60).toFixed(1) });
  return t('report_hours', { n: (value / 3600).toFixed(1) });
}

/**
 * @param {HTMLElement} root
 */
export function createReportsPage(root) {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
  const from = h('input', { type: 'date', id: 'report-from', value: monthAgo, data: { testid: 'report-from' } });
  const to = h('input', { type: 'date', id: 'report-to', value: today, data: { testid: 'report-to' } });
  const status = statusLine('report-status');
  const body = h('div', { class: 'report-body', data: { testid: 'report-body' } });
  const form = h('form', { class: 'survey-range', on: { submit: (event) => { event.preventDefault(); load(); } } },
    h('label', { attrs: { for: 'report-from' }, text: t('report_from') }), from,
    h('label', { attrs: { for: 'report-to' }, text: t('report_to') }), to,
    button(t('report_show'), { variant: 'primary', testid: 'report-show', type: 'submit' }));
  root.append(h('div', { class: 'page' },
    pageHead({ title: t('report_heading'), intro: t('report_intro') }), form, status.node, body));

  function csvLink(table, params) {
    return h('a', {
      class: 'btn btn-secondary btn-sm',
      href: `/api/v1/reports/${table}.csv${params}`,
      text: t('report_csv'),
      attrs: { download: `report-${table}-${from.value}-${to.value}.csv` },
      data: { testid: `report-csv-${table}` },
    });
  }

  function card(titleKey, table, params, ...children) {
    return h('section', { class: 'survey-card report-card', data: { testid: `report-${table}` } },
      h('div', { class: 'report-card-head' }, h('h2', { class: 'survey-h2', text: t(titleKey) }), csvLink(table, params)),
      ...children);
  }

  function stat(label, value, testid) {
    return h('div', { class: 'survey-stat' }, h('span', { class: 'muted', text: label }), h('strong', { text: value, data: { testid } }));
  }

  function paint(report, params) {
    const days = report.days.map((day) => ({
      label: day.day,
      short: day.day.slice(5),
      values: { conversations: day.conversations, missed: day.missed, offline: day.offline_requests },
    }));
    const hours = report.hours.map((hour) => ({
      label: `${String(hour.hour).padStart(2, '0')}:00`,
      short: String(hour.hour),
      values: { conversations: hour.conversations },
    }));
    const totals = h('div', { class: 'survey-summary' },
      stat(t('report_conversations'), String(report.totals.conversations), 'report-total-conversations'),
      stat(t('report_missed'), String(report.totals.missed), 'report-total-missed'),
      stat(t('report_offline'), String(report.totals.offline_requests), 'report-total-offline'),
      stat(t('report_csat'), report.csat.csat_percent === null ? '–' : `${Math.round(report.csat.csat_percent)} %`, 'report-csat'));
    body.replaceChildren(
      totals,
      card('report_days_heading', 'days', params,
        barChart({
          title: t('report_days_heading'),
          items: days,
          testid: 'chart-days',
          series: [
            { key: 'conversations', label: t('report_conversations'), className: 'chart-main' },
            { key: 'missed', label: t('report_missed'), className: 'chart-alt' },
            { key: 'offline', label: t('report_offline'), className: 'chart-third' },
          ],
        }),
        h('details', {}, h('summary', { text: t('report_table') }),
          table([t('report_day'), t('report_conversations'), t('report_missed'), t('report_offline')],
            report.days.map((day) => [day.day, day.conversations, day.missed, day.offline_requests]), 'report-days-table'))),
      card('report_times_heading', 'response_times', params,
        table([t('report_measure'), t('report_count'), t('report_median'), t('report_p90')], [
          [t('report_first_response'), report.first_response.count, seconds(report.first_response.median_seconds), seconds(report.first_response.p90_seconds)],
          [t('report_length'), report.length.count, seconds(report.length.median_seconds), seconds(report.length.p90_seconds)],
        ], 'report-times-table')),
      card('report_hours_heading', 'hours', params,
        barChart({ title: t('report_hours_heading'), items: hours, testid: 'chart-hours', series: [{ key: 'conversations', label: t('report_conversations'), className: 'chart-main' }] })),
      card('report_operators_heading', 'operators', params,
        report.operators.length
          ? hbarChart({ title: t('report_operators_heading'), testid: 'chart-operators', rows: report.operators.map((operator) => ({ label: operator.name, value: operator.conversations })) })
          : h('p', { class: 'muted', text: t('report_none') })),
      card('report_csat_heading', 'csat', params,
        report.csat.questions.length
          ? table([t('report_version'), t('report_question'), t('report_answered'), t('report_satisfied'), t('report_csat')],
            report.csat.questions.map((row) => [row.survey_version, row.question, row.answered, row.satisfied, row.csat_percent === null ? '–' : `${Math.round(row.csat_percent)} %`]), 'report-csat-table')
          : h('p', { class: 'muted', text: t('report_none') })),
      card('report_pages_heading', 'pages', params,
        report.pages.length
          ? h('div', {},
            hbarChart({ title: t('report_pages_heading'), testid: 'chart-pages', rows: report.pages.slice(0, 10).map((page) => ({ label: shortPage(page.url), value: page.views })) }),
            h('details', {}, h('summary', { text: t('report_table') }),
              table([t('report_site'), t('report_page'), t('report_views')],
                report.pages.map((page) => [page.site, page.url, page.views]), 'report-pages-table')))
          : h('p', { class: 'muted', text: t('report_none') })),
      h('p', { class: 'muted', text: t('report_note', { zone: report.time_zone }) }));
  }

  async function load() {
    const params = query({ from: from.value, to: to.value });
    status.set(t('loading_page'));
    try {
      const report = await api(`/api/v1/reports${params}`);
      paint(report, params);
      status.set('');
    } catch (error) {
      body.replaceChildren();
      status.set(errorText(error), { error: true });
    }
  }

  return {
    async show() {
      await load();
    },
  };
}
