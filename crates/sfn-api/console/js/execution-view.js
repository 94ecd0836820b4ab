/* zoomvault console: one execution (#/execution/ARN): its summary, its
 * state graph with the legend and the state panel, its input and output,
 * and its events; the whole history is read page by page, then polled
 * while the execution runs.
 *
 * Must not: insert execution data as markup (it builds only with dom.js
 * and components.js, and hands events to history-view.js, which does the
 * same), or go on polling once the reader navigates away (the signal).
 */

import { POLL_MS, call, sleep } from './api.js';
import { parseDefinition } from './asl.js';
import { card, codeBlock, crumbs, errorBox, pageHead, statusBadge } from './components.js';
import { appendAll, el } from './dom.js';
import { formatDuration, formatTime, humanStatus, nameFromArn, prettyJson, toMillis } from './format.js';
import { GraphView } from './graph.js';
import { HistoryAnalysis, OUTCOMES } from './history.js';
import { EventTable, StatePanel } from './history-view.js';
import { links } from './links.js';

// AWS's largest page for GetExecutionHistory: a 10,000-event history is
// ten requests.
const HISTORY_PAGE = 1000;

export async function executionView(main, signal, arn, params) {
  const [execution, forExecution] = await Promise.all([
    call('DescribeExecution', { executionArn: arn }, signal),
    call('DescribeStateMachineForExecution', { executionArn: arn }, signal).catch((err) => {
      if (err.name === 'AbortError') throw err;
      return { failure: err };
    }),
  ]);
  document.title = execution.name + ' \u00b7 zoomvault';
  const machineName = forExecution.name || nameFromArn(execution.stateMachineArn);
  main.append(crumbs(
    ['Executions', links.executions({ stateMachine: execution.stateMachineArn })],
    [machineName, links.stateMachine(execution.stateMachineArn)],
    execution.name));

  const summary = new ExecutionSummary(execution, machineName);
  main.append(summary.element);

  let graph = null;
  let graphProblem = forExecution.failure || null;
  if (!graphProblem) {
    try {
      graph = parseDefinition(forExecution.definition);
    } catch (err) {
      graphProblem = err;
    }
  }
  const analysis = new HistoryAnalysis(graph);
  const panel = new StatePanel(analysis);
  const selectState = (node) => {
    graphView.select(node);
    panel.show(node);
  };
  const graphView = graph ? new GraphView(graph, (node) => {
    selectState(node);
    // The address names the selected state, so a link shows the same
    // thing; replaceState does not fire hashchange, so no re-render.
    history.replaceState(null, '', links.execution(arn, { state: node.name }));
  }) : null;
  const legend = new Legend();
  const graphArea = el('div', { class: 'graph-layout' },
    el('div', { class: 'graph-scroll' }, graphView ? graphView.svg : errorBox(graphProblem)),
    panel.element);
  main.append(card(el('div', { class: 'card-head-row' }, el('h2', null, 'Graph'), legend.element), graphArea));
  main.append(summary.io);

  const events = new EventTable(analysis, toMillis(execution.startDate));
  main.append(card(el('div', { class: 'card-head-row' }, el('h2', null, 'Events'), events.counter), events.element));

  let running = execution.status === 'RUNNING';
  let lastId = 0;
  const ingest = (list) => {
    const fresh = list.filter((e) => typeof e.id === 'number' && e.id > lastId);
    if (fresh.length) {
      lastId = fresh[fresh.length - 1].id;
      analysis.apply(fresh);
      events.append(fresh);
    }
    const touched = analysis.takeDirty();
    const counts = graphView ? graphView.refresh(analysis, running) : null;
    if (counts) legend.update(counts);
    panel.refresh(running, touched);
  };
  ingest([]);

  // The whole history, oldest first; the graph and table update after
  // each page so a long history shows progress.
  let nextToken = null;
  do {
    const request = { executionArn: arn, maxResults: HISTORY_PAGE, reverseOrder: false, includeExecutionData: true };
    if (nextToken) request.nextToken = nextToken;
    const page = await call('GetExecutionHistory', request, signal);
    ingest(page.events || []);
    nextToken = page.nextToken;
  } while (nextToken);

  const wanted = graph && params.get('state') && graph.byName.get(params.get('state'));
  if (wanted) selectState(wanted);

  if (running) {
    summary.live(true);
    // Not awaited: the view is ready once loaded; polling goes on until
    // the execution ends or the reader navigates away (the signal).
    (async () => {
      while (running) {
        await sleep(POLL_MS, signal);
        try {
          const now = await call('DescribeExecution', { executionArn: arn }, signal);
          // Newest first back to the last known event: one request per
          // poll unless more than a page arrived since the last.
          const fresh = [];
          let token = null;
          pages: do {
            const request = { executionArn: arn, maxResults: HISTORY_PAGE, reverseOrder: true, includeExecutionData: true };
            if (token) request.nextToken = token;
            const page = await call('GetExecutionHistory', request, signal);
            for (const e of page.events || []) {
              if (e.id <= lastId) break pages;
              fresh.push(e);
            }
            token = page.nextToken;
          } while (token);
          running = now.status === 'RUNNING';
          fresh.reverse();
          ingest(fresh);
          summary.update(now);
          summary.warn(null);
        } catch (err) {
          if (err.name === 'AbortError') return;
          summary.warn(err);
        }
      }
      summary.live(false);
    })().catch(() => {});
  }
}

// The execution's head (name, status, times, error) and, placed
// separately below the graph, its input and output.
class ExecutionSummary {
  constructor(execution, machineName) {
    this.machineName = machineName;
    this.element = el('div', { class: 'execution-summary' });
    this.io = el('div', { class: 'io' });
    this.liveBadge = el('span', { class: 'live', hidden: true }, 'Live');
    this.warning = el('div', { class: 'warning', hidden: true });
    this.update(execution);
  }

  update(execution) {
    const e = execution;
    const start = toMillis(e.startDate);
    const stop = toMillis(e.stopDate);
    if (this.shown && this.shown.status === e.status && this.shown.stopDate === e.stopDate) {
      // Still running: only the duration moves.
      this.duration.textContent = formatDuration(Date.now() - start);
      return;
    }
    this.shown = e;
    this.duration = el('span', null, formatDuration((stop || Date.now()) - start));
    const failed = e.error || e.cause;
    this.element.replaceChildren();
    appendAll(this.element, [
      pageHead(e.name, statusBadge(e.status), this.liveBadge),
      this.warning,
      card(null,
        el('div', { class: 'facts' },
          fact('State machine', el('a', { href: links.stateMachine(e.stateMachineArn) }, this.machineName)),
          fact('Started', formatTime(start)),
          fact('Ended', stop ? formatTime(stop) : '\u2014'),
          fact('Duration', this.duration)),
        el('div', { class: 'arn-line' }, el('span', { class: 'muted' }, 'Execution ARN '), el('span', { class: 'mono' }, e.executionArn))),
      failed ? el('div', { class: 'error-box execution-error', role: 'alert' },
        el('strong', { class: 'error-type' }, e.error || humanStatus(e.status)),
        e.cause ? codeBlock(prettyJson(e.cause), 'cause') : null) : null]);
    this.io.replaceChildren(
      card('Input', codeBlock(prettyJson(e.input), 'execution-input')),
      card('Output', e.output !== undefined && e.output !== null
        ? codeBlock(prettyJson(e.output), 'execution-output')
        : el('p', { class: 'empty' }, e.status === 'RUNNING' ? 'Not finished yet.' : 'No output.')));
  }

  live(on) {
    this.liveBadge.hidden = !on;
  }

  warn(err) {
    this.warning.hidden = !err;
    this.warning.replaceChildren(err ? 'Refreshing failed, retrying: ' + (err.type ? err.type + ': ' : '') + err.message : '');
  }
}

function fact(label, value) {
  return el('div', { class: 'fact' }, el('div', { class: 'fact-label' }, label), el('div', { class: 'fact-value' }, value));
}

class Legend {
  constructor() {
    this.counts = new Map();
    this.element = el('ul', { class: 'legend', 'aria-label': 'Legend' },
      OUTCOMES.map(([key, label, glyph]) => {
        const count = el('span', { class: 'legend-count' });
        this.counts.set(key, count);
        return el('li', { dataset: { status: key } }, el('span', { class: 'swatch', 'aria-hidden': 'true' }, glyph), label, count);
      }),
      el('li', { class: 'edge-key' }, el('span', { class: 'line taken', 'aria-hidden': 'true' }), 'Taken'),
      el('li', { class: 'edge-key' }, el('span', { class: 'line catch', 'aria-hidden': 'true' }), 'Catch'));
  }

  update(counts) {
    for (const [key, span] of this.counts) {
      const n = counts.get(key) || 0;
      span.textContent = n ? String(n) : '';
    }
  }
}
