/* zoomvault console: drawing a state graph as SVG.
 *
 * Owns: the SVG of a laid-out graph (states, Parallel and Map boxes,
 * edges and loops, end marks), colouring each state by its outcome and
 * each taken edge, and selecting a state by click or keyboard.
 *
 * Must not: insert state names or types as markup: it builds only with
 * `svg` from dom.js, so they land as text. It redraws nothing on refresh,
 * only updates the nodes and edges that changed.
 */

import { SVG_NS, svg } from './dom.js';
import { OUTCOME_GLYPH, OUTCOME_LABEL, edgeKey, nodeOutcome } from './history.js';
import { L, layoutMachine } from './layout.js';

export class GraphView {
  // `onSelect` is null for a definition without an execution.
  constructor(graph, onSelect) {
    this.graph = graph;
    this.layout = layoutMachine(graph.root, true);
    this.nodeElements = new Map();
    this.edgeElements = new Map();
    this.shownTaken = new Set();
    this.selected = null;
    const w = Math.ceil(this.layout.w + 2 * L.margin);
    const h = Math.ceil(this.layout.h + 2 * L.margin);
    this.svg = svg('svg', {
      class: 'graph',
      xmlns: SVG_NS,
      viewBox: `0 0 ${w} ${h}`,
      width: w,
      height: h,
      role: 'group',
      'aria-label': 'States of the state machine',
    });
    this.svg.append(svg('defs', null,
      arrowMarker('arrow', 'arrow-head'),
      arrowMarker('arrow-taken', 'arrow-head taken')));
    const root = svg('g', { transform: `translate(${L.margin},${L.margin})` });
    this.svg.append(root);
    this.drawMachine(this.layout, root);
    if (onSelect) {
      const pick = (target) => {
        const g = target.closest('g.state');
        if (g) onSelect(graph.nodes[Number(g.dataset.node)]);
      };
      this.svg.addEventListener('click', (ev) => pick(ev.target));
      this.svg.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          pick(ev.target);
        }
      });
    }
  }

  drawMachine(layout, parent) {
    const edgeLayer = svg('g', { class: 'edges' });
    const nodeLayer = svg('g', { class: 'nodes' });
    parent.append(edgeLayer, nodeLayer);
    for (const e of layout.edges) {
      const path = svg('path', {
        class: 'edge ' + e.kind + (e.back ? ' loop' : ''),
        d: e.back ? loopPath(e) : edgePath(e, layout),
        'marker-end': 'url(#arrow)',
      });
      edgeLayer.append(path);
      this.edgeElements.set(edgeKey(e.from.node || null, e.to.node), path);
    }
    for (const it of layout.items) {
      const x = it.cx - it.w / 2;
      if (it.kind === 'start') {
        nodeLayer.append(svg('g', { class: 'start', transform: `translate(${x},${it.y})` },
          svg('rect', { width: it.w, height: it.h, rx: it.h / 2 }),
          svg('text', { x: it.w / 2, y: it.h / 2 + 4.5, 'text-anchor': 'middle' }, 'Start')));
        continue;
      }
      const node = it.node;
      const group = svg('g', { transform: `translate(${x},${it.y})` });
      nodeLayer.append(group);
      const state = svg('g', {
        class: 'state' + (it.lanes ? ' compound' : ''),
        tabindex: '0',
        role: 'button',
        dataset: { state: node.name, status: 'not-reached', type: node.type, node: String(node.index) },
      });
      const title = svg('title', null, node.name);
      const glyph = svg('text', { class: 'glyph', 'text-anchor': 'middle' }, OUTCOME_GLYPH.get('not-reached'));
      const kind = svg('text', { class: 'kind' }, node.type);
      group.append(state);
      if (it.lanes) {
        state.append(title,
          svg('rect', { class: 'frame', width: it.w, height: it.h, rx: 10 }),
          svg('path', { class: 'head', d: `M0,10 a10,10 0 0 1 10,-10 h${it.w - 20} a10,10 0 0 1 10,10 v${L.frameHead - 10} h${-it.w} z` }),
          svg('text', { class: 'name', x: 14, y: 23 }, it.label));
        kind.setAttribute('x', it.w - 34);
        kind.setAttribute('y', 23);
        kind.setAttribute('text-anchor', 'end');
        glyph.setAttribute('x', it.w - 17);
        glyph.setAttribute('y', 23);
        state.append(kind, glyph);
        const lanes = svg('g', { class: 'lanes' });
        group.append(lanes);
        it.lanes.forEach((lane, i) => {
          const laneGroup = svg('g', { transform: `translate(${lane.x},${lane.y})` },
            svg('rect', { class: 'lane', width: lane.boxW, height: lane.boxH, rx: 8 }),
            svg('text', { class: 'lane-label', x: 10, y: 17 }, node.type === 'Map' ? 'Item processor' : `Branch ${i + 1}`));
          lanes.append(laneGroup);
          const inner = svg('g', { transform: `translate(${L.lanePadX + (lane.boxW - 2 * L.lanePadX - lane.w) / 2},${L.lanePadTop})` });
          laneGroup.append(inner);
          this.drawMachine(lane, inner);
        });
      } else {
        state.append(title,
          svg('rect', { class: 'box', width: it.w, height: it.h, rx: 8 }),
          svg('text', { class: 'name', x: 14, y: 20 }, it.label));
        kind.setAttribute('x', 14);
        kind.setAttribute('y', 36);
        glyph.setAttribute('x', it.w - 18);
        glyph.setAttribute('y', 28);
        state.append(kind, glyph);
      }
      if (node.end) {
        // A small terminal mark below a state that ends its machine.
        const hasOut = layoutHasOut(layout, it);
        const mx = hasOut ? it.w - 16 : it.w / 2;
        group.append(svg('g', { class: 'end-mark' },
          svg('line', { x1: mx, y1: it.h, x2: mx, y2: it.h + 9 }),
          svg('circle', { cx: mx, cy: it.h + 13, r: 4 })));
      }
      this.nodeElements.set(node, { state, glyph, kind, title, type: node.type, status: 'not-reached', count: 0 });
    }
  }

  // Updates only nodes whose outcome or run count changed; returns how
  // many states have each outcome, for the legend.
  refresh(analysis, running) {
    const counts = new Map();
    for (const [node, view] of this.nodeElements) {
      const status = nodeOutcome(node, running);
      counts.set(status, (counts.get(status) || 0) + 1);
      const count = node.occurrences.length;
      const statusChanged = status !== view.status;
      if (statusChanged) {
        view.status = status;
        view.state.dataset.status = status;
        view.glyph.textContent = OUTCOME_GLYPH.get(status);
      }
      if (statusChanged || count !== view.count) {
        view.count = count;
        view.kind.textContent = count > 1 ? `${view.type} \u00b7 ${count} runs` : view.type;
        view.title.textContent = `${node.name} (${view.type}): ${OUTCOME_LABEL.get(status)}${count > 1 ? `, ${count} runs` : ''}`;
      }
    }
    for (const key of analysis.taken) {
      if (this.shownTaken.has(key)) continue;
      this.shownTaken.add(key);
      const path = this.edgeElements.get(key);
      if (path) {
        path.classList.add('taken');
        path.setAttribute('marker-end', 'url(#arrow-taken)');
      }
    }
    return counts;
  }

  select(node) {
    if (this.selected) this.selected.classList.remove('selected');
    const view = this.nodeElements.get(node);
    this.selected = view ? view.state : null;
    if (this.selected) this.selected.classList.add('selected');
  }
}

function layoutHasOut(layout, it) {
  return layout.edges.some((e) => e.from === it && !e.back);
}

function arrowMarker(id, cls) {
  return svg('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 5.5, markerHeight: 5.5, orient: 'auto-start-reverse' },
    svg('path', { class: cls, d: 'M0,0 L10,5 L0,10 z' }));
}

function edgePath(e, layout) {
  const points = [[e.outX, e.from.y + e.from.h]];
  for (const d of e.chain) {
    points.push([d.cx, layout.tops[d.layer]]);
    points.push([d.cx, layout.tops[d.layer] + layout.heights[d.layer]]);
  }
  points.push([e.inX, e.to.y]);
  let d = `M${r(points[0][0])},${r(points[0][1])}`;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    if (Math.abs(x0 - x1) < 0.5) {
      d += ` L${r(x1)},${r(y1)}`;
    } else {
      const my = (y0 + y1) / 2;
      d += ` C${r(x0)},${r(my)} ${r(x1)},${r(my)} ${r(x1)},${r(y1)}`;
    }
  }
  return d;
}

function loopPath(e) {
  const right = e.side === 'right';
  const fromX = right ? e.from.cx + e.from.w / 2 : e.from.cx - e.from.w / 2;
  const toX = right ? e.to.cx + e.to.w / 2 : e.to.cx - e.to.w / 2;
  const self = e.from === e.to;
  const y0 = e.from.y + e.from.h / 2 + (self ? 8 : 0);
  const y1 = e.to.y + e.to.h / 2 - (self ? 8 : 0);
  const x = e.routeX;
  const s = right ? 1 : -1;
  const rad = Math.min(8, Math.abs(y0 - y1) / 2);
  return `M${r(fromX)},${r(y0)} H${r(x - s * rad)} Q${r(x)},${r(y0)} ${r(x)},${r(y0 - rad)}`
    + ` V${r(y1 + rad)} Q${r(x)},${r(y1)} ${r(x - s * rad)},${r(y1)} H${r(toX)}`;
}

const r = (v) => Math.round(v * 10) / 10;
