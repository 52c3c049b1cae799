// How another person's cursor is drawn: a caret in their colour with their name always shown
// above it. BlockNote's own cursor hides the name until it moves, even with labels "always".
const JOINER = "\u2060";

export function renderCursor(user: { name: string; color: string }): HTMLElement {
  const base = document.createElement("span");
  base.className = "bn-collaboration-cursor__base";
  base.setAttribute("data-active", "");
  const caret = document.createElement("span");
  caret.className = "bn-collaboration-cursor__caret";
  caret.setAttribute("contenteditable", "false");
  caret.style.backgroundColor = user.color;
  const label = document.createElement("span");
  label.className = "bn-collaboration-cursor__label";
  label.style.backgroundColor = user.color;
  label.textContent = user.name;
  caret.append(label);
  base.append(document.createTextNode(JOINER), caret, document.createTextNode(JOINER));
  return base;
}
