/**
 * A few DOM helpers instead of a framework: `h` builds an element from a tag, attributes and
 * children; views build their whole subtree off-document and swap it in once, so a render costs
 * one layout.
 */

/** Attribute values: strings set attributes, functions become listeners (`onclick`), false/undefined are skipped. */
export type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;
/** What may go inside an element. */
export type Child = Node | string | number | null | undefined | false | Child[];

/** Creates `<tag>` with `attrs` and `children` (strings become text nodes, never HTML). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Appends children to `el`, flattening arrays and skipping empty values. */
export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces everything inside `el` with `children`, in one DOM operation. */
export function replace(el: Element, ...children: Child[]): void {
  const frag = document.createDocumentFragment();
  append(frag, children);
  el.replaceChildren(frag);
}

/** A link to a hash route. */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href }, ...children);
}
