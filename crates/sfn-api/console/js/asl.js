/* zoomvault console: reading a state machine definition (Amazon States
 * Language) into the graph the console draws.
 *
 * Owns: the graph's shape: its machines, their state nodes, transitions
 * (Next, Choices, Default, Catch) and which states end their machine.
 *
 * Must not: validate or evaluate the definition (the engine does), or
 * touch the DOM. It reads leniently: a missing or odd field leaves a
 * node without it rather than failing the drawing.
 */

// The graph of a definition: machines (the top level, each Parallel
// branch, each Map processor) holding state nodes and their transitions.
export function parseDefinition(text) {
  const definition = typeof text === 'string' ? JSON.parse(text) : text;
  const graph = { root: null, nodes: [], byName: new Map() };
  graph.root = parseMachine(definition, null, graph);
  return graph;
}

function parseMachine(definition, parentNode, graph) {
  const machine = { startAt: definition && definition.StartAt, states: new Map(), parentNode };
  const states = definition && typeof definition.States === 'object' && definition.States ? definition.States : {};
  for (const [name, raw] of Object.entries(states)) {
    const state = raw && typeof raw === 'object' ? raw : {};
    const node = {
      index: graph.nodes.length,
      name,
      type: typeof state.Type === 'string' ? state.Type : '?',
      machine,
      edges: [],
      children: [],
      end: false,
      occurrences: [],
    };
    graph.nodes.push(node);
    const add = (to, kind) => {
      if (typeof to === 'string') node.edges.push({ to, kind });
    };
    add(state.Next, 'next');
    if (Array.isArray(state.Choices)) for (const c of state.Choices) add(c && c.Next, 'choice');
    add(state.Default, 'default');
    if (Array.isArray(state.Catch)) for (const c of state.Catch) add(c && c.Next, 'catch');
    node.end = state.End === true || node.type === 'Succeed' || node.type === 'Fail';
    if (node.type === 'Parallel' && Array.isArray(state.Branches)) {
      node.children = state.Branches.map((b) => parseMachine(b, node, graph));
    } else if (node.type === 'Map') {
      const processor = state.ItemProcessor || state.Iterator;
      if (processor) node.children = [parseMachine(processor, node, graph)];
    }
    machine.states.set(name, node);
    if (!graph.byName.has(name)) graph.byName.set(name, node);
  }
  return machine;
}
