/* zoomvault console: laying out a state graph.
 *
 * Owns: the graph's sizes, measuring and fitting state names, and the
 * layered layout of a machine: cycle breaking, layering, ordering against
 * crossings, x placement, loops beside the graph, edge ports, and
 * Parallel and Map boxes holding their machines side by side.
 *
 * Must not: draw (graph.js does) or know of executions: the same layout
 * serves a bare definition and a running execution. Its only DOM use is a
 * detached canvas to measure text.
 */

// Sizes in SVG units (CSS pixels at 100%).
export const L = {
  nodeH: 46,
  minW: 132,
  maxW: 250,
  gapX: 28,
  gapDummy: 12,
  gapY: 40,
  dummyW: 6,
  framePad: 12,
  frameHead: 36,
  laneGap: 14,
  lanePadX: 16,
  lanePadTop: 28,
  lanePadBottom: 16,
  startW: 70,
  startH: 28,
  margin: 24,
  loopGap: 16,
};
const NAME_FONT = '600 13px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

let measureContext = null;
function textWidth(text, font) {
  if (!measureContext) measureContext = document.createElement('canvas').getContext('2d');
  if (!measureContext) return text.length * 7.5;
  measureContext.font = font;
  return measureContext.measureText(text).width;
}

function fitText(text, font, width) {
  if (textWidth(text, font) <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(text.slice(0, mid) + '\u2026', font) <= width) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo) + '\u2026';
}

// Lays out one machine top to bottom: break cycles (a DFS from StartAt;
// edges back to the DFS stack are drawn as loops beside the graph),
// longest-path layering, dummy nodes on edges that skip layers, ordering
// within layers by barycenter sweeps keeping the fewest crossings, then x
// positions closest to the neighbours' mean under the spacing
// constraints (weighted isotonic regression per layer). A Parallel or Map
// is a box holding its machines' layouts side by side.
export function layoutMachine(machine, isRoot) {
  const items = [];
  const itemOf = new Map();
  for (const node of machine.states.values()) {
    const it = { kind: 'state', node, out: [], inn: [], up: [], down: [], layer: 0, pre: 0 };
    if (node.children.length) {
      it.lanes = node.children.map((m) => layoutMachine(m, false));
      let x = L.framePad;
      let tallest = 0;
      for (const lane of it.lanes) {
        lane.x = x;
        lane.y = L.frameHead;
        lane.boxW = lane.w + 2 * L.lanePadX;
        lane.boxH = lane.h + L.lanePadTop + L.lanePadBottom;
        x += lane.boxW + L.laneGap;
        tallest = Math.max(tallest, lane.boxH);
      }
      if (!it.lanes.length) x += L.laneGap;
      it.label = fitText(node.name, NAME_FONT, 320);
      const headW = textWidth(it.label, NAME_FONT) + textWidth(node.type, NAME_FONT) + 64;
      const lanesW = x - L.laneGap + L.framePad;
      it.w = Math.max(lanesW, headW, L.minW);
      it.h = L.frameHead + tallest + L.framePad;
      // Lanes narrower than the header sit in the middle of the box.
      for (const lane of it.lanes) {
        lane.boxH = tallest;
        lane.x += (it.w - lanesW) / 2;
      }
    } else {
      it.label = fitText(node.name, NAME_FONT, L.maxW - 52);
      it.w = Math.min(L.maxW, Math.max(L.minW, textWidth(it.label, NAME_FONT) + 52));
      it.h = L.nodeH;
    }
    items.push(it);
    itemOf.set(node, it);
  }
  const startNode = machine.states.get(machine.startAt);
  let start = null;
  if (isRoot) {
    start = { kind: 'start', out: [], inn: [], up: [], down: [], layer: 0, pre: 0, w: L.startW, h: L.startH };
    items.unshift(start);
  }

  const edges = [];
  const connect = (a, b, kind) => {
    const existing = a.out.find((e) => e.to === b);
    if (existing) {
      if (existing.kind === 'catch' && kind !== 'catch') existing.kind = kind;
      return;
    }
    const e = { from: a, to: b, kind, back: false, chain: [] };
    a.out.push(e);
    b.inn.push(e);
    edges.push(e);
  };
  if (start && startNode) connect(start, itemOf.get(startNode), 'next');
  for (const it of items) {
    if (!it.node) continue;
    for (const edge of it.node.edges) {
      const target = machine.states.get(edge.to);
      if (target) connect(it, itemOf.get(target), edge.kind);
    }
  }

  // Cycle breaking and a topological order in one DFS.
  const mark = new Map();
  const post = [];
  let counter = 0;
  const visit = (u) => {
    mark.set(u, 1);
    u.pre = counter++;
    for (const e of u.out) {
      const m = mark.get(e.to);
      if (m === 1) e.back = true;
      else if (!m) visit(e.to);
    }
    mark.set(u, 2);
    post.push(u);
  };
  const first = start || (startNode && itemOf.get(startNode));
  if (first) visit(first);
  for (const it of items) if (!mark.get(it)) visit(it);

  for (let i = post.length - 1; i >= 0; i--) {
    const u = post[i];
    for (const e of u.out) if (!e.back) e.to.layer = Math.max(e.to.layer, u.layer + 1);
  }

  let layerCount = 0;
  for (const it of items) layerCount = Math.max(layerCount, it.layer + 1);
  const layers = Array.from({ length: layerCount }, () => []);
  for (const it of items) layers[it.layer].push(it);
  for (const e of edges) {
    if (e.back) continue;
    let prev = e.from;
    for (let l = e.from.layer + 1; l < e.to.layer; l++) {
      const d = { kind: 'dummy', w: L.dummyW, h: 0, layer: l, pre: e.from.pre + 0.5, up: [], down: [] };
      layers[l].push(d);
      e.chain.push(d);
      prev.down.push(d);
      d.up.push(prev);
      prev = d;
    }
    prev.down.push(e.to);
    e.to.up.push(prev);
  }

  orderLayers(layers);
  placeLayers(layers);

  // Vertical placement: each layer as tall as its tallest item, items
  // centred in it.
  const tops = [];
  const heights = [];
  let y = 0;
  for (let l = 0; l < layers.length; l++) {
    const h = Math.max(0, ...layers[l].map((it) => it.h));
    tops.push(y);
    heights.push(h);
    for (const it of layers[l]) it.y = y + (h - it.h) / 2;
    y += h + L.gapY;
  }
  const height = Math.max(0, y - L.gapY);

  // Loops run beside the layers they span, on the side nearer to their
  // ends, each a little further out than the last.
  let loopsLeft = 0;
  let loopsRight = 0;
  for (const e of edges) {
    if (!e.back) continue;
    const lo = Math.min(e.from.layer, e.to.layer);
    const hi = Math.max(e.from.layer, e.to.layer);
    let left = Infinity;
    let right = -Infinity;
    for (let l = lo; l <= hi; l++) {
      for (const it of layers[l]) {
        left = Math.min(left, it.cx - it.w / 2);
        right = Math.max(right, it.cx + it.w / 2);
      }
    }
    const middle = (left + right) / 2;
    if ((e.from.cx + e.to.cx) / 2 < middle - 1) {
      e.side = 'left';
      e.routeX = left - L.loopGap - 12 * loopsLeft++;
    } else {
      e.side = 'right';
      e.routeX = right + L.loopGap + 12 * loopsRight++;
    }
  }

  let minX = Infinity;
  let maxX = -Infinity;
  for (const layer of layers) {
    for (const it of layer) {
      minX = Math.min(minX, it.cx - it.w / 2);
      maxX = Math.max(maxX, it.cx + it.w / 2);
    }
  }
  for (const e of edges) {
    if (!e.back) continue;
    minX = Math.min(minX, e.routeX - 6);
    maxX = Math.max(maxX, e.routeX + 6);
  }
  if (!Number.isFinite(minX)) {
    minX = 0;
    maxX = L.minW;
  }
  for (const layer of layers) for (const it of layer) it.cx -= minX;
  for (const e of edges) if (e.back) e.routeX -= minX;

  assignPorts(items, edges);
  return {
    w: maxX - minX,
    h: Math.max(height, 1),
    items: items.filter((it) => it.kind !== 'dummy'),
    edges,
    tops,
    heights,
  };
}

function orderLayers(layers) {
  for (const layer of layers) layer.sort((a, b) => a.pre - b.pre);
  const number = () => {
    for (const layer of layers) layer.forEach((it, i) => { it.order = i; });
  };
  number();
  let best = layers.map((l) => l.slice());
  let bestCrossings = crossings(layers);
  for (let sweep = 0; sweep < 12 && bestCrossings > 0; sweep++) {
    const down = sweep % 2 === 0;
    for (let k = 1; k < layers.length; k++) {
      const l = down ? k : layers.length - 1 - k;
      const layer = layers[l];
      for (const it of layer) {
        const ns = down ? it.up : it.down;
        it.bary = ns.length ? ns.reduce((s, n) => s + n.order, 0) / ns.length : it.order;
      }
      layer.sort((a, b) => a.bary - b.bary || a.order - b.order);
      layer.forEach((it, i) => { it.order = i; });
    }
    const c = crossings(layers);
    if (c < bestCrossings) {
      bestCrossings = c;
      best = layers.map((l) => l.slice());
    }
  }
  best.forEach((layer, i) => { layers[i] = layer; });
  number();
}

function crossings(layers) {
  let total = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const segments = [];
    for (const a of layers[l]) for (const b of a.down) segments.push(a.order, b.order);
    for (let i = 0; i < segments.length; i += 2) {
      for (let j = i + 2; j < segments.length; j += 2) {
        if ((segments[i] - segments[j]) * (segments[i + 1] - segments[j + 1]) < 0) total++;
      }
    }
  }
  return total;
}

function gapBetween(a, b) {
  return a.kind === 'dummy' && b.kind === 'dummy' ? L.gapDummy : a.kind === 'dummy' || b.kind === 'dummy' ? L.gapDummy + 6 : L.gapX;
}

function placeLayers(layers) {
  for (const layer of layers) {
    let x = 0;
    for (let i = 0; i < layer.length; i++) {
      const it = layer[i];
      if (i > 0) x += gapBetween(layer[i - 1], it);
      it.cx = x + it.w / 2;
      x += it.w;
    }
  }
  const n = layers.length;
  const sweeps = ['down', 'up', 'down', 'up', 'down', 'up', 'down'];
  for (const dir of sweeps) {
    for (let k = 0; k < n; k++) {
      const l = dir === 'down' ? k : n - 1 - k;
      const layer = layers[l];
      const desired = [];
      const weight = [];
      for (const it of layer) {
        const ns = dir === 'down' ? it.up : it.down;
        if (ns.length) {
          desired.push(ns.reduce((s, m) => s + m.cx, 0) / ns.length);
          // Long edges stay straight: their dummies pull hardest.
          weight.push(it.kind === 'dummy' ? 6 : ns.length);
        } else {
          desired.push(it.cx);
          weight.push(0.05);
        }
      }
      placeLayer(layer, desired, weight);
    }
  }
}

// Minimises the weighted squared distance of each item's centre to its
// desired centre, keeping order and spacing: with offsets folding the
// spacing away, this is isotonic regression, solved by pooling adjacent
// violators.
function placeLayer(layer, desired, weight) {
  const n = layer.length;
  if (!n) return;
  const offset = [0];
  for (let i = 1; i < n; i++) offset.push(offset[i - 1] + (layer[i - 1].w + layer[i].w) / 2 + gapBetween(layer[i - 1], layer[i]));
  const blocks = [];
  for (let i = 0; i < n; i++) {
    blocks.push({ sum: (desired[i] - offset[i]) * weight[i], weight: weight[i], count: 1 });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (a.sum / a.weight <= b.sum / b.weight) break;
      blocks.pop();
      a.sum += b.sum;
      a.weight += b.weight;
      a.count += b.count;
    }
  }
  let i = 0;
  for (const b of blocks) {
    const value = b.sum / b.weight;
    for (let k = 0; k < b.count; k++, i++) layer[i].cx = value + offset[i];
  }
}

// Where edges leave and enter a node: spread along its bottom and top,
// in the order of the other ends, so edges do not cross at the node.
function assignPorts(items, edges) {
  const forward = edges.filter((e) => !e.back);
  const nextX = (e) => (e.chain.length ? e.chain[0].cx : e.to.cx);
  const prevX = (e) => (e.chain.length ? e.chain[e.chain.length - 1].cx : e.from.cx);
  for (const it of items) {
    const outs = forward.filter((e) => e.from === it).sort((a, b) => nextX(a) - nextX(b));
    spread(outs, it, (e, x) => { e.outX = x; });
    const ins = forward.filter((e) => e.to === it).sort((a, b) => prevX(a) - prevX(b));
    spread(ins, it, (e, x) => { e.inX = x; });
  }
}

function spread(list, it, set) {
  const k = list.length;
  if (!k) return;
  const step = k > 1 ? Math.min(16, (it.w - 28) / (k - 1)) : 0;
  list.forEach((e, i) => set(e, it.cx + (i - (k - 1) / 2) * step));
}
