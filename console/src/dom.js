// Building the page from data with text nodes only: nothing the API returns is ever parsed as HTML.

/** h("a", {href: "#/x", class: "c"}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replace an element's children, leaving out the absent ones (replaceChildren would print "null"). */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
}

export function formatTime(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString().replace("T", " ").replace(".000Z", " UTC") : "";
}

/** A form's fields as an object; empty fields left out, so the API applies its defaults. */
export function formFields(form) {
  const fields = {};
  for (const [name, value] of new FormData(form).entries()) {
    if (value === "") continue;
    const input = form.elements.namedItem(name);
    fields[name] = input && input.type === "number" ? Number(value) : value;
  }
  return fields;
}
