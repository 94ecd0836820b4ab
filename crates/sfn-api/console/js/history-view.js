/* zoomvault console: an execution's history on the page.
 *
 * Owns: the state panel (one state's runs, with their input, output and
 * errors) and the events table (rendered in chunks, details built when a
 * row is first opened, summaries of each event).
 *
 * Must not: insert event data as markup. Inputs, outputs and causes are
 * the most likely carriers of hostile text; they reach the page only
 * through dom.js and components.js, as text.
 */

import { codeBlock, table } from './components.js';
import { el } from './dom.js';
import { clip, formatDuration, formatTime, prettyJson, toMillis } from './format.js';
import { OUTCOME_LABEL, eventDetails, nodeOutcome, occurrenceOutcome } from './history.js';

// Event rows are rendered this many at a time so a long history keeps the
// DOM, and every later update, small.
const TABLE_CHUNK = 1000;

export class StatePanel {
  constructor(analysis) {
    this.analysis = analysis;
    this.element = el('aside', { class: 'state-panel', 'aria-live': 'polite' });
    this.node = null;
    this.pick = null;
    this.running = false;
    this.element.append(el('p', { class: 'hint' }, 'Select a state in the graph to see its input and output.'));
  }

  show(node) {
    this.node = node;
    this.pick = null;
    this.render();
  }

  // Re-renders only when the shown state has new events or the
  // execution ended, so a poll does not reset what the reader scrolled.
  refresh(running, touched) {
    const ended = running !== this.running;
    this.running = running;
    if (this.node && (ended || touched.has(this.node))) this.render();
  }

  render() {
    const node = this.node;
    const runs = node.occurrences;
    const status = nodeOutcome(node, this.running);
    const parts = [
      el('div', { class: 'panel-head' },
        el('h3', null, node.name),
        el('span', { class: 'outcome', dataset: { status } }, OUTCOME_LABEL.get(status))),
      el('div', { class: 'panel-type' }, node.type),
    ];
    if (!runs.length) {
      parts.push(el('p', { class: 'hint' }, 'This state was not reached.'));
      this.element.replaceChildren(...parts);
      return;
    }
    const index = this.pick === null ? runs.length - 1 : Math.min(this.pick, runs.length - 1);
    if (runs.length > 1) {
      // The newest 500 runs: a select of every Map iteration would be
      // a long list nobody scrolls.
      const from = Math.max(0, runs.length - 500);
      const select = el('select', { class: 'run-select', 'aria-label': 'Run of this state' });
      for (let i = from; i < runs.length; i++) {
        const occ = runs[i];
        const label = `Run ${i + 1} of ${runs.length}` + (occ.iteration !== null && occ.iteration !== undefined ? ` \u00b7 item ${occ.iteration}` : '')
          + ` \u00b7 ${OUTCOME_LABEL.get(occurrenceOutcome(occ, this.running)).toLowerCase()}`;
        select.append(el('option', { value: String(i), selected: i === index }, label));
      }
      select.addEventListener('change', () => {
        this.pick = Number(select.value);
        this.render();
      });
      parts.push(select);
    }
    const occ = runs[index];
    const outcome = occurrenceOutcome(occ, this.running);
    parts.push(el('dl', { class: 'meta compact' },
      el('dt', null, 'Outcome'), el('dd', null, OUTCOME_LABEL.get(outcome)),
      el('dt', null, 'Entered'), el('dd', null, formatTime(occ.enteredAt)),
      el('dt', null, 'Exited'), el('dd', null, occ.exitedAt ? `${formatTime(occ.exitedAt)} (${formatDuration(occ.exitedAt - occ.enteredAt)})` : '\u2014')));
    for (const failure of occ.errors) {
      parts.push(el('div', { class: 'error-box small' },
        el('strong', { class: 'error-type' }, (failure.error || failure.type) + (failure.error ? ` (${failure.type})` : '')),
        failure.cause ? codeBlock(prettyJson(failure.cause), 'cause') : null));
    }
    parts.push(el('h4', null, 'Input'), codeBlock(occ.input === undefined ? '' : prettyJson(occ.input), 'state-input'));
    parts.push(el('h4', null, 'Output'), occ.exited
      ? codeBlock(prettyJson(occ.output), 'state-output')
      : el('p', { class: 'hint' }, outcome === 'running' ? 'Not exited yet.' : 'The state did not exit.'));
    this.element.replaceChildren(...parts);
  }
}

export class EventTable {
  constructor(analysis, startMs) {
    this.analysis = analysis;
    this.startMs = startMs;
    this.events = [];
    this.byId = new Map();
    this.rendered = 0;
    this.limit = TABLE_CHUNK;
    this.tbody = el('tbody');
    this.counter = el('span', { class: 'count' });
    this.more = el('button', { type: 'button', class: 'button more', hidden: true }, '');
    this.more.addEventListener('click', () => {
      this.limit += TABLE_CHUNK;
      this.renderRows();
    });
    this.tbody.addEventListener('click', (ev) => {
      if (ev.target.closest('a')) return;
      const row = ev.target.closest('tr.event');
      if (row) this.toggle(row);
    });
    this.element = el('div', null,
      table(['', 'ID', 'Type', 'State', 'Elapsed', 'Timestamp', 'Details'], this.tbody, 'events'),
      el('div', { class: 'table-foot' }, this.more));
  }

  append(events) {
    for (const e of events) {
      this.events.push(e);
      this.byId.set(e.id, e);
    }
    this.renderRows();
  }

  renderRows() {
    const fragment = document.createDocumentFragment();
    const end = Math.min(this.events.length, this.limit);
    for (; this.rendered < end; this.rendered++) fragment.append(this.row(this.events[this.rendered]));
    this.tbody.append(fragment);
    const hidden = this.events.length - this.rendered;
    this.more.hidden = hidden <= 0;
    this.more.textContent = `Show ${Math.min(hidden, TABLE_CHUNK)} more (${hidden} not shown)`;
    this.counter.textContent = this.events.length + (this.events.length === 1 ? ' event' : ' events');
  }

  row(e) {
    const type = String(e.type || '');
    const at = toMillis(e.timestamp);
    const category = /(Failed|TimedOut)$/.test(type) ? 'bad' : /Aborted$/.test(type) ? 'warn' : /Succeeded$/.test(type) ? 'good' : '';
    return el('tr', { class: 'event', dataset: { eventId: String(e.id), eventType: type } },
      el('td', { class: 'toggle' }, el('button', { type: 'button', class: 'expand', 'aria-expanded': 'false', 'aria-label': 'Show event details' }, '\u25B8')),
      el('td', { class: 'num' }, String(e.id)),
      el('td', { class: 'etype ' + category }, type),
      el('td', { class: 'estate' }, this.analysis.stateOfEvent.get(e.id) || ''),
      el('td', { class: 'num nowrap' }, at !== null && this.startMs !== null ? '+' + formatDuration(at - this.startMs) : ''),
      el('td', { class: 'nowrap muted' }, formatTime(at)),
      el('td', { class: 'summary' }, eventSummary(e)));
  }

  // Details are built on first expansion only: most rows are never
  // opened, and a 10,000-row history must not carry 10,000 JSON dumps.
  toggle(row) {
    const button = row.querySelector('.expand');
    const next = row.nextElementSibling;
    if (next && next.classList.contains('event-detail')) {
      next.remove();
      button.setAttribute('aria-expanded', 'false');
      button.textContent = '\u25B8';
      return;
    }
    const e = this.byId.get(Number(row.dataset.eventId));
    if (!e) return;
    row.after(el('tr', { class: 'event-detail' }, el('td', { colspan: '7' }, codeBlock(JSON.stringify(readableEvent(e), null, 2)))));
    button.setAttribute('aria-expanded', 'true');
    button.textContent = '\u25BE';
  }
}

// The event with its input/output JSON text parsed, for reading.
function readableEvent(e) {
  const copy = {};
  for (const [key, value] of Object.entries(e)) {
    if (key.endsWith('EventDetails') && value && typeof value === 'object') {
      const details = {};
      for (const [k, v] of Object.entries(value)) {
        if ((k === 'input' || k === 'output' || k === 'parameters') && typeof v === 'string') {
          try {
            details[k] = JSON.parse(v);
            continue;
          } catch (_) {
            // Not JSON: shown as the text it is.
          }
        }
        details[k] = v;
      }
      copy[key] = details;
    } else {
      copy[key] = value;
    }
  }
  return copy;
}

function eventSummary(e) {
  const d = eventDetails(e);
  if (!d) return '';
  if (d.error || d.cause) return clip([d.error, d.cause].filter(Boolean).join(': '), 200);
  if (typeof d.index === 'number') return `item ${d.index}`;
  if (typeof d.output === 'string') return clip(d.output, 200);
  if (typeof d.input === 'string') return clip(d.input, 200);
  if (d.resource) return clip(`${d.resourceType || ''}:${d.resource}`, 200);
  if (typeof d.length === 'number') return `${d.length} items`;
  return '';
}
