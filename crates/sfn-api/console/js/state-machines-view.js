/* zoomvault console: the state machines list (#/) and one state machine
 * (#/state-machine/ARN): its facts, its executions and its definition
 * drawn as a graph.
 *
 * Must not: insert API data as markup; it builds only with dom.js and
 * components.js, so names and definitions land as text.
 */

import { call, listStateMachines } from './api.js';
import { parseDefinition } from './asl.js';
import { card, codeBlock, crumbs, errorBox, metaList, pageHead, table } from './components.js';
import { el } from './dom.js';
import { executionsTable, labelled, statusFilterSelect } from './executions-view.js';
import { formatDate, prettyJson, toMillis } from './format.js';
import { GraphView } from './graph.js';
import { links } from './links.js';

export async function stateMachinesView(main, signal) {
  document.title = 'State machines \u00b7 zoomvault';
  const machines = await listStateMachines(signal);
  main.append(pageHead('State machines',
    el('span', { class: 'count' }, machines.length + (machines.length === 1 ? ' state machine' : ' state machines'))));
  if (!machines.length) {
    main.append(card(null, el('p', { class: 'empty' }, 'No state machines yet.')));
    return;
  }
  const tbody = el('tbody');
  for (const m of machines) {
    tbody.append(el('tr', { class: 'state-machine', dataset: { stateMachine: m.name } },
      el('td', null,
        el('a', { class: 'strong', href: links.stateMachine(m.stateMachineArn) }, m.name),
        el('div', { class: 'arn' }, m.stateMachineArn)),
      el('td', null, el('span', { class: 'tag' }, m.type || 'STANDARD')),
      el('td', { class: 'nowrap' }, formatDate(toMillis(m.creationDate))),
      el('td', { class: 'actions' }, el('a', { href: links.executions({ stateMachine: m.stateMachineArn }) }, 'Executions \u2192'))));
  }
  main.append(card(null, table(['Name', 'Type', 'Created', ''], tbody)));
}

export async function stateMachineView(main, signal, arn, params) {
  const status = params.get('status') || '';
  const machine = await call('DescribeStateMachine', { stateMachineArn: arn }, signal);
  document.title = machine.name + ' \u00b7 zoomvault';
  main.append(
    crumbs(['State machines', links.stateMachines()], machine.name),
    pageHead(machine.name, el('span', { class: 'tag' }, machine.type || 'STANDARD')),
    card(null, metaList([
      ['ARN', machine.stateMachineArn, 'mono'],
      ['Status', machine.status || 'ACTIVE'],
      ['Created', formatDate(toMillis(machine.creationDate))],
      machine.roleArn && ['Role', machine.roleArn, 'mono'],
    ])));

  const statusSelect = statusFilterSelect(status, () => {
    location.hash = links.stateMachine(arn, { status: statusSelect.value });
  });
  const executions = el('div');
  main.append(card(el('div', { class: 'card-head-row' }, el('h2', null, 'Executions'),
    el('div', { class: 'toolbar' }, labelled('Status', statusSelect))), executions));

  const graphHost = el('div', { class: 'graph-scroll' });
  main.append(card('Definition', graphHost,
    el('details', { class: 'definition' }, el('summary', null, 'Definition JSON'), codeBlock(prettyJson(machine.definition)))));
  try {
    const graph = parseDefinition(machine.definition);
    const view = new GraphView(graph, null);
    graphHost.append(view.svg);
    graphHost.classList.add('definition-only');
  } catch (err) {
    graphHost.append(errorBox(err));
  }

  await executionsTable(executions, signal, [arn], status, new Map([[arn, machine.name]]), false);
}
