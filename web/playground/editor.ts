/**
 * The code editor: a <textarea> with a line-number gutter kept in step with it (no editor
 * library: the examples are short, and a textarea keeps undo, selection and IME for free).
 * Tab indents by two spaces, Shift-Tab removes them, Ctrl/Cmd-Enter runs.
 */

export class Editor {
  constructor(
    readonly area: HTMLTextAreaElement,
    private readonly gutter: HTMLElement,
    onRun: () => void,
  ) {
    area.addEventListener("input", () => this.number());
    area.addEventListener("scroll", () => (gutter.scrollTop = area.scrollTop));
    area.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        onRun();
      } else if (e.key === "Tab") {
        e.preventDefault();
        this.indent(e.shiftKey);
      }
    });
    this.number();
  }

  get value(): string {
    return this.area.value;
  }

  set value(text: string) {
    this.area.value = text;
    this.area.scrollTop = 0;
    this.number();
  }

  private number(): void {
    const lines = this.area.value.split("\n").length;
    if (this.gutter.childElementCount === lines) return;
    this.gutter.textContent = Array.from({ length: lines }, (_, i) => String(i + 1)).join("\n");
    this.gutter.scrollTop = this.area.scrollTop;
  }

  /** Indent (or with `out`, dedent) the selected lines; with no selection, insert two spaces. */
  private indent(out: boolean): void {
    const a = this.area;
    const { selectionStart: s, selectionEnd: e, value } = a;
    if (s === e && !out) {
      a.setRangeText("  ", s, e, "end");
    } else {
      const from = value.lastIndexOf("\n", s - 1) + 1;
      const lines = value.slice(from, e).split("\n");
      const changed = lines.map((l) => (out ? l.replace(/^ {1,2}/, "") : `  ${l}`)).join("\n");
      a.setRangeText(changed, from, e, "select");
    }
    this.number();
  }
}
