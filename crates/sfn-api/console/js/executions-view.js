/* zoomvault console: the executions list (#/executions), filtered by
 * status and state machine, and the executions table it shares with the
 * state machine view, whose running rows are refreshed until they end.
 *
 * Must not: insert API data as markup (it builds only with dom.js and
 * components.js), or poll without bound: only the first running rows are
 * watched, and polling stops with the view's signal.
 */

import { POLL_MS, call, executionLister, listStateMachines, sleep } from './api.js';
import { card, errorBox, pageHead, statusBadge, table } from './components.js';
import { el } from './dom.js';
import { formatDate, formatDuration, humanStatus, nameFromArn, toMillis } from './format.js';
import { links } from './links.js';

const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

export function statusFilterSelect(status, onchange) {
  return el('select', { class: 'status-filter', onchange },
    el('option', { value: '' }, 'All statuses'),
    EXECUTION_STATUSES.map((s) => el('option', { value: s, selected: s === status }, humanStatus(s))));
}

export function labelled(text, control) {
  return el('label', { class: 'field' }, el('span', null, text), control);
}

// `navigate` renders the view the address names again: the Refresh
// button.
export async function executionsView(main, signal, params, navigate) {
  document.title = 'Executions \u00b7 zoomvault';
  const status = params.get('status') || '';
  const stateMachineArn = params.get('stateMachine') || '';
  const machines = await listStateMachines(signal);
  const names = new Map(machines.map((m) => [m.stateMachineArn, m.name]));

  const go = () => {
    location.hash = links.executions({ stateMachine: machineSelect.value, status: statusSelect.value });
  };
  const statusSelect = statusFilterSelect(status, go);
  const machineSelect = el('select', { class: 'machine-filter', onchange: go },
    el('option', { value: '' }, 'All state machines'),
    machines.map((m) => el('option', { value: m.stateMachineArn, selected: m.stateMachineArn === stateMachineArn }, m.name)));
  // A filter naming a state machine that is not listed still filters.
  if (stateMachineArn && !names.has(stateMachineArn)) {
    machineSelect.append(el('option', { value: stateMachineArn, selected: true }, nameFromArn(stateMachineArn)));
  }
  const refresh = el('button', { type: 'button', class: 'button', onclick: navigate }, 'Refresh');
  main.append(pageHead('Executions', el('div', { class: 'toolbar' },
    labelled('Status', statusSelect), labelled('State machine', machineSelect), refresh)));

  const host = el('div');
  main.append(card(null, host));
  // Express executions are not listed (on AWS ListExecutions refuses
  // them), so "all" means every standard state machine.
  const arns = stateMachineArn
    ? [stateMachineArn]
    : machines.filter((m) => m.type !== 'EXPRESS').map((m) => m.stateMachineArn);
  await executionsTable(host, signal, arns, status, names, !stateMachineArn);
}

export async function executionsTable(host, signal, arns, status, names, showMachine) {
  const lister = executionLister(arns, status);
  const tbody = el('tbody');
  const more = el('button', { type: 'button', class: 'button more', hidden: true }, 'Load more');
  const empty = el('p', { class: 'empty', hidden: true },
    status ? `No ${humanStatus(status).toLowerCase()} executions.` : 'No executions yet.');
  const headers = ['Name', 'Status'];
  if (showMachine) headers.push('State machine');
  headers.push('Started', 'Ended', 'Duration');
  host.append(table(headers, tbody, 'executions'), empty, el('div', { class: 'table-foot' }, more));
  let shown = 0;
  // Rows of running executions, by ARN, so they can be refreshed in place.
  const running = new Map();
  let polling = false;

  async function load() {
    more.disabled = true;
    const { rows, more: hasMore } = await lister.next(signal);
    const fragment = document.createDocumentFragment();
    for (const e of rows) {
      const row = executionRow(e, names, showMachine);
      if (e.status === 'RUNNING') running.set(e.executionArn, row);
      fragment.append(row);
    }
    tbody.append(fragment);
    shown += rows.length;
    more.hidden = !hasMore;
    more.disabled = false;
    empty.hidden = shown > 0;
    if (running.size && !polling) {
      polling = true;
      pollRunning().catch(() => {});
    }
  }

  // Running rows are described again every couple of seconds and swapped
  // when they end; a row that ended is never touched again. Only the
  // first rows are watched: a page of a thousand running executions must
  // not become a thousand requests per poll.
  async function pollRunning() {
    while (running.size) {
      await sleep(2 * POLL_MS, signal);
      const watched = [...running].slice(0, 25);
      await Promise.all(watched.map(async ([arn, row]) => {
        let e;
        try {
          e = await call('DescribeExecution', { executionArn: arn }, signal);
        } catch (err) {
          if (err.name === 'AbortError') throw err;
          return;
        }
        if (e.status === 'RUNNING') return;
        const fresh = executionRow(e, names, showMachine);
        row.replaceWith(fresh);
        running.delete(arn);
      }));
    }
    polling = false;
  }

  more.addEventListener('click', () => {
    load().catch((err) => {
      if (!signal.aborted && err.name !== 'AbortError') host.append(errorBox(err));
    });
  });
  if (!arns.length) {
    empty.hidden = false;
    return;
  }
  await load();
}

function executionRow(e, names, showMachine) {
  const start = toMillis(e.startDate);
  const stop = toMillis(e.stopDate);
  const machineName = names.get(e.stateMachineArn) || nameFromArn(e.stateMachineArn);
  return el('tr', { class: 'execution', dataset: { execution: e.name, status: e.status } },
    el('td', null, el('a', { class: 'strong', href: links.execution(e.executionArn) }, e.name)),
    el('td', null, statusBadge(e.status)),
    showMachine && el('td', null, el('a', { href: links.stateMachine(e.stateMachineArn) }, machineName)),
    el('td', { class: 'nowrap' }, formatDate(start)),
    el('td', { class: 'nowrap' }, stop ? formatDate(stop) : '\u2014'),
    el('td', { class: 'nowrap num' }, stop ? formatDuration(stop - start) : (e.status === 'RUNNING' ? 'running' : '\u2014')));
}
