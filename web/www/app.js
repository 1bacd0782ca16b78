// The playground page. It knows no op: the controls come from the engine's
// op metadata (`ops()`, the table `stillgraph ops` prints), the steps and
// errors from `check()`, and every control's change goes through `set()`,
// which rewrites the pipeline and validates it as the CLI does.
//
// For tests, <body> carries data-state (loading | ready | running | done |
// error), data-runs (finished runs), data-ms (the last frame's time in the
// engine) and data-backend (gpu | cpu).

import init, { ops, graphs, check, set, Playground } from "./pkg/stillgraph_web.js";

const $ = (id) => document.getElementById(id);
const body = document.body;

let playground = null;
let opsByName = new Map();
// The pipeline as the editor holds it, and the name that says how to read
// it (a `.yaml` name imports the reference tool's YAML).
let pipelineName = "pipeline.ron";
// Set while a run is in flight; a change meanwhile asks for one more run.
let running = false;
let again = false;
let lastOutputs = [];
let downloadUrl = null;

function state(s) {
  body.dataset.state = s;
}

function showError(checked) {
  const box = $("error");
  if (!checked) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.hidden = false;
  box.textContent = checked.error;
  box.dataset.line = checked.line ?? "";
  box.dataset.col = checked.col ?? "";
  for (const el of document.querySelectorAll(".param.invalid")) el.classList.remove("invalid");
  if (checked.step && checked.param) {
    const el = document.querySelector(
      `.param[data-step="${CSS.escape(checked.step)}"][data-field="${CSS.escape(checked.param)}"]`);
    if (el) el.classList.add("invalid");
  }
}

// Clicking a syntax error puts the cursor where it is.
$("error").addEventListener("click", () => {
  const line = Number($("error").dataset.line);
  const col = Number($("error").dataset.col);
  if (!line) return;
  const text = $("ron").value;
  let at = 0;
  for (let i = 1; i < line; i++) at = text.indexOf("\n", at) + 1;
  at += Math.max(0, col - 1);
  $("ron").focus();
  $("ron").setSelectionRange(at, at + 1);
});

// ---- controls, from the op metadata -------------------------------------

function numberInput(value, param, integer) {
  const input = document.createElement("input");
  input.type = "number";
  input.step = integer ? "1" : "any";
  const a = param.allowed;
  if (a.min !== undefined) { input.min = a.min; input.max = a.max; }
  if (a.at_least !== undefined) input.min = a.at_least;
  if (value !== undefined && value !== null) input.value = value;
  if (param.default) input.placeholder = param.default;
  return input;
}

// One control: its elements, and how to read its value as JSON (null: the
// default).
function control(param, value) {
  const integer = param.ty === "integer";
  const wrap = document.createElement("span");
  let read;
  if (param.ty === "bool") {
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = value === undefined || value === null ? param.default === "true" : value;
    wrap.append(box);
    read = () => box.checked;
  } else if (param.allowed.words) {
    const select = document.createElement("select");
    if (param.default || value === undefined || value === null) {
      select.append(new Option(param.default ? `default (${param.default})` : "—", ""));
    }
    for (const w of param.allowed.words) select.append(new Option(w, w));
    select.value = value ?? "";
    wrap.append(select);
    read = () => (select.value === "" ? null : select.value);
  } else if (param.ty === "(min, max)") {
    wrap.className = "pair";
    const lo = numberInput(value?.[0], param, false);
    const hi = numberInput(value?.[1], param, false);
    wrap.append(lo, " to ", hi);
    read = () => (lo.value === "" || hi.value === "" ? null : [Number(lo.value), Number(hi.value)]);
  } else {
    const number = numberInput(value, param, integer);
    const a = param.allowed;
    if (a.min !== undefined && Number.isFinite(a.max)) {
      const slider = document.createElement("input");
      slider.type = "range";
      slider.min = a.min;
      slider.max = a.max;
      slider.step = integer ? 1 : (a.max - a.min) / 1000;
      slider.value = value ?? a.min;
      // The slider moves the number; the number's change is what counts.
      slider.addEventListener("input", () => {
        number.value = slider.value;
        number.dispatchEvent(new Event("change", { bubbles: true }));
      });
      number.addEventListener("change", () => { slider.value = number.value; });
      wrap.append(slider);
    }
    wrap.append(number);
    read = () => (number.value === "" ? null : Number(number.value));
  }
  return { element: wrap, read };
}

function row(stepName, field, label, title, ctl) {
  const div = document.createElement("div");
  div.className = "param";
  div.dataset.step = stepName;
  div.dataset.field = field;
  const name = document.createElement("label");
  name.textContent = label;
  name.title = title;
  div.append(name, ctl.element);
  div.addEventListener("change", () => change(stepName, field, ctl.read()));
  return div;
}

function renderControls(checked) {
  const box = $("controls");
  box.replaceChildren();
  $("seed").value = checked.seed;
  for (const step of checked.steps) {
    const div = document.createElement("div");
    div.className = "step";
    const op = opsByName.get(step.op);
    const h = document.createElement("h3");
    h.textContent = step.name + " ";
    const span = document.createElement("span");
    span.textContent = step.op;
    span.title = op?.summary ?? "";
    h.append(span);
    div.append(h);
    for (const param of op?.params ?? []) {
      const title = `${param.doc}\nallowed: ${param.allowed_text}` +
        (param.default ? `\ndefault: ${param.default}` : "");
      div.append(row(step.name, param.name, param.name, title, control(param, step.params[param.name])));
    }
    const seedParam = { ty: "integer", allowed: { at_least: 0 }, default: "from the pipeline seed" };
    div.append(row(step.name, "seed", "seed", "this step's seed; empty: derived from the pipeline seed",
      control(seedParam, step.seed)));
    div.append(row(step.name, "animate", "animate", "draw a new pattern on every frame",
      control({ ty: "bool", allowed: { any: true }, default: "false" }, step.animate)));
    div.append(row(step.name, "repeat", "repeat", "apply the op this many times (1 to 100)",
      control({ ty: "integer", allowed: { min: 1, max: 100 } }, step.repeat)));
    box.append(div);
  }
}

// ---- the pipeline ---------------------------------------------------------

// Checks the editor's text; on success the controls follow it.
function checkText() {
  const checked = JSON.parse(check($("ron").value, pipelineName));
  if (!checked.ok) {
    showError(checked);
    return false;
  }
  showError(null);
  $("warnings").textContent = checked.warnings.join("\n");
  if (checked.ron !== $("ron").value) {
    // A YAML file, imported: from here on the editor holds RON.
    $("ron").value = checked.ron;
    pipelineName = "pipeline.ron";
  }
  renderControls(checked);
  const outputs = $("output");
  const chosen = outputs.value;
  outputs.replaceChildren(...checked.outputs.map((n, i) => new Option(n, i)));
  if (chosen && Number(chosen) < checked.outputs.length) outputs.value = chosen;
  return true;
}

function change(step, field, value) {
  try {
    $("ron").value = set($("ron").value, pipelineName, step, field, JSON.stringify(value));
    pipelineName = "pipeline.ron";
    showError(null);
  } catch (e) {
    showError({ error: String(e.message ?? e), step, param: field });
    return;
  }
  const checked = JSON.parse(check($("ron").value, pipelineName));
  $("warnings").textContent = "";
  if (checked.ok) schedule();
}

function loadPipeline(text, name) {
  $("ron").value = text;
  pipelineName = name;
  if (checkText()) schedule();
}

// ---- running --------------------------------------------------------------

function schedule() {
  if (!playground || !body.dataset.image) return;
  if (running) {
    again = true;
    return;
  }
  runOnce();
}

async function runOnce() {
  running = true;
  again = false;
  state("running");
  try {
    const result = JSON.parse(await playground.run($("ron").value, pipelineName, Number($("frame").value) || 0));
    lastOutputs = result.outputs;
    body.dataset.ms = result.ms;
    $("timing").textContent = `${result.ms.toFixed(1)} ms on ${playground.is_gpu() ? "WebGPU" : "the CPU"}`;
    show();
    body.dataset.runs = Number(body.dataset.runs) + 1;
    state("done");
  } catch (e) {
    showError({ error: String(e.message ?? e) });
    state("error");
  } finally {
    running = false;
    if (again) runOnce();
  }
}

function show() {
  const index = Math.min(Number($("output").value) || 0, lastOutputs.length - 1);
  const out = lastOutputs[index];
  const canvas = $("preview");
  canvas.width = out.width;
  canvas.height = out.height;
  const pixels = new Uint8ClampedArray(playground.rgba(index));
  canvas.getContext("2d").putImageData(new ImageData(pixels, out.width, out.height), 0, 0);
  // The download is the engine's own PNG (exact, in the input's layout),
  // not the canvas's.
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([playground.png(index)], { type: "image/png" }));
  const link = $("download");
  link.href = downloadUrl;
  link.download = `${out.name}.png`;
  link.hidden = false;
}

async function loadImage(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    const info = JSON.parse(playground.load_image(bytes, file.name));
    $("image-info").textContent = `${file.name}: ${info.width} × ${info.height}` +
      (info.notes.length ? ` (${info.notes.join("; ")})` : "");
    body.dataset.image = file.name;
    schedule();
  } catch (e) {
    $("image-info").textContent = String(e.message ?? e);
  }
}

// ---- wiring ---------------------------------------------------------------

async function main() {
  await init();
  opsByName = new Map(JSON.parse(ops()).map((op) => [op.name, op]));
  const bundled = JSON.parse(graphs());
  for (const g of bundled) $("graph").append(new Option(g.name, g.name));
  $("graph").addEventListener("change", () => {
    const g = bundled.find((g) => g.name === $("graph").value);
    if (g) loadPipeline(g.text, `${g.name}.ron`);
  });
  $("pipeline-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) loadPipeline(await file.text(), file.name);
  });
  let typing = null;
  $("ron").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { if (checkText()) schedule(); }, 300);
  });
  $("seed").addEventListener("change", () => change("", "seed", Number($("seed").value)));
  $("frame").addEventListener("change", schedule);
  $("output").addEventListener("change", () => { if (lastOutputs.length) show(); });
  $("image-file").addEventListener("change", (e) => { if (e.target.files[0]) loadImage(e.target.files[0]); });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) loadImage(file);
  });

  const first = bundled.find((g) => g.name === "three_ops") ?? bundled[0];
  $("graph").value = first.name;
  loadPipeline(first.text, `${first.name}.ron`);

  // ?backend=gpu (or cpu) picks the backend. Auto, the default, takes a
  // hardware GPU and passes over a software one, which is far slower than
  // the CPU backend (see BENCHMARKS.md).
  const wanted = new URLSearchParams(location.search).get("backend") ?? "auto";
  try {
    playground = await Playground.open(wanted);
  } catch (e) {
    $("backend").textContent = String(e.message ?? e);
    state("error");
    return;
  }
  const gpu = playground.is_gpu();
  body.dataset.backend = gpu ? "gpu" : "cpu";
  $("backend").textContent = gpu
    ? `Running on WebGPU: ${playground.describe()}`
    : wanted === "cpu"
      ? `Running on ${playground.describe()}.`
      : "No hardware WebGPU adapter here: running on the CPU backend, on one thread.";
  state("ready");
  // A picture to start from, where the server has the repository's assets.
  try {
    const r = await fetch("assets/astronaut.png");
    if (r.ok && !body.dataset.image) await loadImage(new File([await r.blob()], "astronaut.png"));
  } catch (_) { /* no bundled picture: the user drops one */ }
}

main();
