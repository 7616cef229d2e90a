/**
 * The hosted pages' one stylesheet, served from STYLESHEET_PATH (so no inline style needs a CSP
 * exception). System fonts, one column that fits a phone, 44 px touch targets, a focus ring on
 * everything focusable, and contrast of at least 4.5:1 for text.
 */
export const STYLESHEET = `
:root { --ink: #1b1b1f; --muted: #4a4a55; --line: #c9c9d2; --accent: #2348b8; --accent-ink: #fff; --danger: #a3162b; --ok: #1d6b35; --panel: #f5f5f8; color-scheme: light; }
* { box-sizing: border-box; }
/* Author display rules (buttons are inline-flex) would otherwise beat the hidden attribute. */
[hidden] { display: none !important; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: var(--ink); background: #fff; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 8px 12px; z-index: 1; }
header.site { display: flex; align-items: center; justify-content: space-between; gap: 12px; padding: 12px 20px; border-bottom: 1px solid var(--line); }
header.site .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
header.site nav { display: flex; gap: 16px; flex-wrap: wrap; }
main { margin: 0 auto; max-width: 40rem; padding: 24px 20px 48px; }
main.wide { max-width: 60rem; }
h1 { font-size: 1.75rem; margin: 0 0 16px; }
h2 { font-size: 1.25rem; margin: 0 0 12px; }
a { color: var(--accent); }
section.card { border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; margin: 16px 0; }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
.hint { color: var(--muted); font-size: 0.9rem; margin: 2px 0 0; }
input, select, textarea { font: inherit; width: 100%; min-height: 44px; padding: 8px 12px; border: 1px solid #767680; border-radius: 6px; background: #fff; color: var(--ink); }
textarea { min-height: 88px; }
button, a.button { font: inherit; display: inline-flex; align-items: center; justify-content: center; min-height: 44px; padding: 8px 16px; margin: 12px 8px 0 0; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; }
button.secondary, a.button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
button[disabled] { opacity: 0.6; cursor: progress; }
:focus-visible { outline: 3px solid #f0a400; outline-offset: 2px; }
.providers { display: grid; gap: 8px; margin: 16px 0; }
.providers a.button { width: 100%; margin: 0; background: #fff; color: var(--ink); border-color: var(--line); }
.divider { display: flex; align-items: center; gap: 12px; color: var(--muted); margin: 20px 0 4px; }
.divider::before, .divider::after { content: ""; flex: 1; border-top: 1px solid var(--line); }
.status { min-height: 1.5em; margin: 12px 0 0; color: var(--muted); }
.status[data-kind="error"] { color: var(--danger); font-weight: 600; }
.status[data-kind="ok"] { color: var(--ok); font-weight: 600; }
.secret { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.95rem; word-break: break-all; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin: 8px 0; }
.warning { border-left: 4px solid #b35c00; background: #fff6eb; padding: 10px 12px; margin: 8px 0; }
ul.rows { list-style: none; padding: 0; margin: 0; }
ul.rows li { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 4px 12px; border-top: 1px solid var(--line); padding: 10px 0; }
ul.rows li:first-child { border-top: 0; }
ul.rows li .what { flex: 1 1 16rem; }
ul.rows li button { margin: 0; }
.meta { color: var(--muted); font-size: 0.9rem; display: block; }
.empty { color: var(--muted); }
ol.progress { display: flex; gap: 4px; list-style: none; padding: 0; margin: 0 0 20px; counter-reset: stage; }
ol.progress li { flex: 1; font-size: 0.85rem; color: var(--muted); border-top: 4px solid var(--line); padding-top: 6px; }
ol.progress li[data-state="done"] { border-color: var(--ok); color: var(--ink); }
ol.progress li[aria-current="step"] { border-color: var(--accent); color: var(--ink); font-weight: 700; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
fieldset { border: 0; padding: 0; margin: 0; }
legend { font-weight: 600; margin: 12px 0 4px; }
.choice { display: flex; gap: 10px; align-items: flex-start; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin: 8px 0; font-weight: 400; }
.choice input { width: auto; min-height: 0; margin-top: 4px; }
.actions { display: flex; flex-wrap: wrap; }
dialog { max-width: 28rem; width: calc(100% - 32px); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; }
dialog::backdrop { background: rgba(0, 0, 0, 0.4); }
.docs section.operation { border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; padding: 12px 16px; }
.docs .method { display: inline-block; min-width: 64px; font-weight: 700; text-transform: uppercase; }
.docs .get { color: #06733f; } .docs .post { color: #0550ae; } .docs .delete { color: #a3162b; } .docs .put, .docs .patch { color: #8a4b00; }
.docs code, .docs pre { font-family: ui-monospace, monospace; font-size: 13px; }
.docs pre { background: var(--panel); padding: 8px; overflow-x: auto; }
.docs details summary { cursor: pointer; color: var(--muted); min-height: 32px; }
@media (max-width: 480px) { h1 { font-size: 1.5rem; } main { padding: 16px 14px 40px; } button, a.button { width: 100%; margin-right: 0; } ul.rows li button { width: auto; } }
`;
