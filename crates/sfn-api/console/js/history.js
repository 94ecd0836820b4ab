/* zoomvault console: reading an execution's history into what each state
 * did.
 *
 * Owns: the outcomes a state can show (with their labels and glyphs),
 * following previousEventId to tell which run of which state an event
 * belongs to (Parallel branches and Map iterations included), the
 * transitions taken, and each run's and each state's outcome.
 *
 * Must not: touch the DOM or call the API. It takes events in order, as
 * many times as they arrive, and reports which states changed.
 */

import { toMillis } from './format.js';

// A state's outcome in one execution: [data-status value, label, glyph].
// The glyph repeats the colour's meaning for readers who cannot tell the
// colours apart.
export const OUTCOMES = [
  ['succeeded', 'Succeeded', '\u2713'],
  ['failed', 'Failed', '\u2715'],
  ['caught', 'Caught or retried', '!'],
  ['running', 'In progress', '\u25CF'],
  ['aborted', 'Aborted', '\u2298'],
  ['not-reached', 'Not reached', '\u25CB'],
];
export const OUTCOME_LABEL = new Map(OUTCOMES.map(([k, label]) => [k, label]));
export const OUTCOME_GLYPH = new Map(OUTCOMES.map(([k, , glyph]) => [k, glyph]));
// When several runs of one state disagree (Map iterations, loops), the
// state shows the most pressing: something still running, then any
// failure, then any recovered failure.
const OUTCOME_RANK = { running: 6, failed: 5, caught: 4, aborted: 3, succeeded: 2, 'not-reached': 1 };
// History events that mean the state they occur in failed (and may be
// retried or caught).
const FAILURE_EVENTS = new Set([
  'TaskFailed', 'TaskTimedOut', 'TaskStartFailed', 'TaskSubmitFailed',
  'LambdaFunctionFailed', 'LambdaFunctionTimedOut', 'LambdaFunctionStartFailed', 'LambdaFunctionScheduleFailed',
  'ActivityFailed', 'ActivityTimedOut', 'ActivityScheduleFailed',
  'ParallelStateFailed', 'MapStateFailed', 'MapIterationFailed', 'MapRunFailed', 'EvaluationFailed',
]);
// Events after which a Parallel's or Map's child runs are over.
const CHILDREN_CLOSED_EVENTS = new Set([
  'ParallelStateSucceeded', 'ParallelStateFailed', 'ParallelStateAborted',
  'MapStateSucceeded', 'MapStateFailed', 'MapStateAborted',
]);

// Reads history events, in order, into runs of states ("occurrences").
// Events name no branch or iteration; previousEventId chains each run's
// events, so following it tells which run, and so which state, an event
// belongs to. A child run's first event follows its Parallel's
// ParallelStateStarted or its Map's MapIterationStarted.
export class HistoryAnalysis {
  constructor(graph) {
    this.graph = graph;
    this.root = { machine: graph ? graph.root : null, occ: null, parent: null, iteration: null, exited: null };
    this.positions = new Map();
    this.stateOfEvent = new Map();
    this.taken = new Set();
    this.dirty = new Set();
  }

  apply(events) {
    for (const e of events) {
      const type = String(e.type || '');
      const prev = this.positions.get(e.previousEventId) || this.root;
      let here = prev;
      let stateName = prev.occ ? prev.occ.name : '';
      if (type.endsWith('StateEntered')) {
        const d = e.stateEnteredEventDetails || {};
        const active = prev.occ && !prev.occ.exited;
        // Entering while a state is active can only be a child run of it.
        const child = active && prev.occ.node && prev.occ.node.children.length > 0;
        const machine = child ? childMachine(prev.occ.node, d.name) : prev.machine;
        const node = (machine && machine.states.get(d.name)) || (this.graph && this.graph.byName.get(d.name)) || null;
        const occ = {
          node,
          name: d.name,
          input: d.input,
          output: undefined,
          exited: false,
          failed: false,
          errors: [],
          parent: child ? prev.occ : prev.parent,
          iteration: prev.iteration,
          enteredId: e.id,
          enteredAt: toMillis(e.timestamp),
          exitedAt: null,
          closedIterations: null,
          childrenClosedAt: 0,
        };
        if (node) {
          node.occurrences.push(occ);
          this.dirty.add(node);
          if (!child && prev.exited && prev.exited.node) this.taken.add(edgeKey(prev.exited.node, node));
          if (prev === this.root) this.taken.add(edgeKey(null, node));
        }
        here = { machine, occ, parent: occ.parent, iteration: occ.iteration, exited: null };
        stateName = d.name;
      } else if (type.endsWith('StateExited')) {
        const d = e.stateExitedEventDetails || {};
        const occ = prev.occ;
        if (occ) {
          occ.exited = true;
          occ.output = d.output;
          occ.exitedAt = toMillis(e.timestamp);
          if (occ.node) this.dirty.add(occ.node);
        }
        here = { machine: prev.machine, occ: null, parent: prev.parent, iteration: occ ? occ.iteration : prev.iteration, exited: occ };
        stateName = d.name || stateName;
      } else {
        const details = eventDetails(e) || {};
        const occ = prev.occ;
        if (occ && FAILURE_EVENTS.has(type)) {
          occ.failed = true;
          occ.errors.push({ type, error: details.error, cause: details.cause, at: toMillis(e.timestamp) });
          if (occ.node) this.dirty.add(occ.node);
        }
        if (occ && CHILDREN_CLOSED_EVENTS.has(type)) occ.childrenClosedAt = e.id;
        if (occ && (type === 'MapIterationSucceeded' || type === 'MapIterationFailed' || type === 'MapIterationAborted')) {
          (occ.closedIterations || (occ.closedIterations = new Set())).add(details.index);
        }
        if (type === 'MapIterationStarted') {
          here = { ...prev, iteration: details.index };
        }
        // A state whose own evaluation failed (a bad path, say) leaves no
        // event of its own; the execution's failure follows its entry.
        if (type === 'ExecutionFailed' && occ && !occ.exited && !occ.failed) {
          occ.failed = true;
          occ.errors.push({ type, error: details.error, cause: details.cause, at: toMillis(e.timestamp) });
          if (occ.node) this.dirty.add(occ.node);
        }
        if (type.startsWith('Execution')) stateName = '';
      }
      this.positions.set(e.id, here);
      this.stateOfEvent.set(e.id, stateName);
    }
  }

  takeDirty() {
    const dirty = this.dirty;
    this.dirty = new Set();
    return dirty;
  }
}

export function edgeKey(from, to) {
  return (from ? from.index : -1) + '>' + to.index;
}

function childMachine(node, startName) {
  if (node.children.length === 1) return node.children[0];
  return node.children.find((m) => m.startAt === startName)
    || node.children.find((m) => m.states.has(startName))
    || node.children[0];
}

// The one `...EventDetails` object of an event.
export function eventDetails(e) {
  for (const key of Object.keys(e)) {
    if (key.endsWith('EventDetails') && e[key] && typeof e[key] === 'object') return e[key];
  }
  return null;
}

// Whether a run of a state can still be going: neither it nor any
// enclosing Parallel or Map has finished.
function isOpen(occ) {
  let child = occ;
  for (let p = occ.parent; p; child = p, p = p.parent) {
    if (p.exited) return false;
    if (p.childrenClosedAt > child.enteredId) return false;
    if (p.closedIterations && child.iteration !== null && child.iteration !== undefined && child.parent === p
      && p.closedIterations.has(child.iteration)) return false;
  }
  return true;
}

export function occurrenceOutcome(occ, running) {
  if (occ.exited) return occ.failed ? 'caught' : 'succeeded';
  const isFail = occ.node && occ.node.type === 'Fail';
  if (running && !isFail && isOpen(occ)) return 'running';
  if (occ.failed || isFail) return 'failed';
  return 'aborted';
}

export function nodeOutcome(node, running) {
  let best = 'not-reached';
  for (const occ of node.occurrences) {
    const o = occurrenceOutcome(occ, running);
    if (OUTCOME_RANK[o] > OUTCOME_RANK[best]) best = o;
  }
  return best;
}
