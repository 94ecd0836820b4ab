/* zoomvault console: building DOM nodes.
 *
 * Owns: `el` and `svg`, the only way the console makes elements, and
 * `appendAll`. This is where the console's first line of defence lives:
 * attribute values go through setAttribute and children become text
 * nodes, so a name, input, output or error cause from the API can never
 * turn into markup.
 *
 * Must not: parse an HTML string in any form (setting an element's HTML,
 * inserting HTML beside it, writing into the document), or take a value it
 * would treat as markup. Every other module builds through these
 * functions, so keeping them text-only keeps the whole console text-only.
 */

export const SVG_NS = 'http://www.w3.org/2000/svg';

// Builds an element. Attribute values are set with setAttribute and
// children become text nodes, so data can never turn into markup.
export function el(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(node, attrs, children) {
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  appendAll(node, children);
  return node;
}

export function appendAll(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) appendAll(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}
