// The tfembed app page: search, similar images, zero-shot classify. Plain DOM, no framework.
"use strict";

const $ = (id) => document.getElementById(id);
let droppedFile = null;
let alignMode = false;  // a Karpathy export: results get an "align" button
let alignId = null;
const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324"];

async function api(url, options) {
  // Every answer is JSON; a 4xx/5xx carries {"error": message}, shown as it is.
  const response = await fetch(url, options);
  let body;
  try { body = await response.json(); } catch (e) { body = {error: `${response.status} ${response.statusText}`}; }
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function showError(id, message) {
  const el = $(id);
  el.textContent = message || "";
  el.hidden = !message;
}

function pictureUrl(id) { return `/api/picture?id=${encodeURIComponent(id)}`; }

function renderGrid(title, results) {
  const grid = $("results");
  grid.replaceChildren();
  $("results-title").textContent = title;
  for (const r of results) {
    const fig = document.createElement("figure");
    fig.className = "result";
    fig.dataset.id = r.id;
    fig.title = "click: images similar to this one";
    if (r.picture) {
      const img = document.createElement("img");
      img.src = pictureUrl(r.id);
      img.alt = r.id;
      fig.append(img);
    } else {
      const none = document.createElement("div");
      none.className = "no-picture";
      none.textContent = "no picture";
      fig.append(none);
    }
    const cap = document.createElement("figcaption");
    cap.innerHTML = `<b class="rank">#${r.rank}</b> <span class="score">${r.score.toFixed(3)}</span><br><span class="id"></span>`;
    cap.querySelector(".id").textContent = r.id;
    fig.append(cap);
    fig.addEventListener("click", () => similar(r.id));
    if (alignMode) {
      const button = document.createElement("button");
      button.className = "align-btn";
      button.textContent = "align";
      button.addEventListener("click", (e) => { e.stopPropagation(); alignId = r.id; align(); });
      fig.append(button);
    }
    grid.append(fig);
  }
  grid.dataset.state = "done";
}

async function search(event) {
  event.preventDefault();
  showError("search-error", "");
  $("results").dataset.state = "loading";
  const q = $("query").value;
  try {
    const body = await api(`/api/search?q=${encodeURIComponent(q)}&k=${encodeURIComponent($("k").value)}`);
    renderGrid(`top ${body.results.length} for “${body.query}”`, body.results);
  } catch (err) {
    $("results").dataset.state = "error";
    showError("search-error", err.message);
  }
}

async function similar(id) {
  showError("search-error", "");
  $("results").dataset.state = "loading";
  try {
    const body = await api(`/api/similar?id=${encodeURIComponent(id)}&k=${encodeURIComponent($("k").value)}`);
    renderGrid(`images nearest to ${id}`, body.results);
  } catch (err) {
    $("results").dataset.state = "error";
    showError("search-error", err.message);
  }
}

function renderAlignment(body) {
  // The image with its numbered region boxes, then each word coloured by its best region.
  const view = $("align-view");
  view.replaceChildren();
  const frame = document.createElement("div");
  frame.className = "align-frame";
  const img = document.createElement("img");
  img.src = pictureUrl(body.id);
  img.alt = body.id;
  frame.append(img);
  (body.boxes || []).forEach(([y0, x0, y1, x1], i) => {
    const box = document.createElement("div");
    box.className = "region";
    Object.assign(box.style, {top: `${100 * y0}%`, left: `${100 * x0}%`, height: `${100 * (y1 - y0)}%`,
                              width: `${100 * (x1 - x0)}%`, borderColor: COLORS[i % COLORS.length]});
    box.textContent = i;
    frame.append(box);
  });
  const words = document.createElement("p");
  words.className = "aligned-words";
  for (const w of body.words) {
    const span = document.createElement("span");
    span.className = "word";
    span.dataset.region = w.region;
    span.style.background = COLORS[w.region % COLORS.length];
    span.title = `region ${w.region}, score ${w.score.toFixed(3)}`;
    span.textContent = `${w.word} [${w.region}]`;
    words.append(span, " ");
  }
  const total = document.createElement("p");
  total.textContent = `${body.id}: S = Σ_t max_i v_i·s_t = ${body.total.toFixed(3)} (region 0 is the whole image)`;
  view.append(frame, words, total);
  view.dataset.state = "done";
}

async function align(event) {
  if (event) event.preventDefault();
  showError("align-error", "");
  if (!alignId) { showError("align-error", "choose an image: press “align” on a result"); return; }
  if (!$("align-text").value) $("align-text").value = $("query").value;
  $("align-view").dataset.state = "loading";
  try {
    renderAlignment(await api(`/api/align?id=${encodeURIComponent(alignId)}&text=${encodeURIComponent($("align-text").value)}`));
  } catch (err) {
    $("align-view").dataset.state = "error";
    showError("align-error", err.message);
  }
}

function renderBars(body) {
  const bars = $("class-bars");
  bars.replaceChildren();
  $("classify-source").textContent = `${body.file}: scored against ${body.source}`;
  for (const c of body.classes) {
    const row = document.createElement("div");
    row.className = "bar";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = c.name;
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = `${(100 * c.probability).toFixed(1)}%`;
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = `${(100 * c.probability).toFixed(1)}%`;
    row.append(name, track, value);
    bars.append(row);
  }
  bars.dataset.state = "done";
}

async function classify(event) {
  event.preventDefault();
  showError("classify-error", "");
  const file = droppedFile || $("classify-file").files[0];
  if (!file) { showError("classify-error", "choose an image file to classify"); return; }
  const form = new FormData();
  form.append("image", file, file.name);
  form.append("classes", $("class-texts").value);
  $("class-bars").dataset.state = "loading";
  try {
    renderBars(await api("/api/classify", {method: "POST", body: form}));
  } catch (err) {
    $("class-bars").replaceChildren();
    $("class-bars").dataset.state = "error";
    showError("classify-error", err.message);
  }
}

function preview(file) {
  const img = $("classify-preview");
  if (!file || !file.type.startsWith("image/")) { img.hidden = true; return; }
  img.src = URL.createObjectURL(file);
  img.hidden = false;
}

function setupDrop() {
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    droppedFile = e.dataTransfer.files[0] || null;
    preview(droppedFile);
  });
  $("classify-file").addEventListener("change", () => { droppedFile = null; preview($("classify-file").files[0]); });
}

async function pollStatus(info) {
  // The gallery is embedded in the background: show its progress until it is ready.
  let status = info;
  while (status.state !== "ready" && status.state !== "failed") {
    $("progress-box").hidden = false;
    $("progress").max = Math.max(status.total, 1);
    $("progress").value = status.done;
    $("progress-text").textContent = `${status.done} / ${status.total}`;
    await new Promise((resolve) => setTimeout(resolve, 500));
    try { status = await api("/api/status"); } catch (err) { status = {state: "failed", message: err.message, notes: []}; }
  }
  $("progress-box").hidden = true;
  const notes = [...(status.notes || [])];
  if (status.skipped_count) notes.push(`${status.skipped_count} image(s) skipped: ` + status.skipped.map((s) => `${s.id} (${s.reason})`).join("; "));
  if (status.state === "failed") notes.push(`gallery failed: ${status.message}`);
  $("notes").textContent = notes.join(" · ");
  document.body.dataset.gallery = status.state;
  return status;
}

async function init() {
  $("search-form").addEventListener("submit", search);
  $("classify-form").addEventListener("submit", classify);
  $("align-form").addEventListener("submit", align);
  setupDrop();
  const info = await api("/api/info");
  $("model-name").textContent = info.model;
  $("k").value = info.k;
  alignMode = Boolean(info.alignment);
  $("align-section").hidden = !alignMode;
  if (!info.classify) {
    $("classify-section").classList.add("disabled");
    showError("classify-error", "this export takes precomputed image features: classify needs an export with an image input");
  }
  await pollStatus(info);
  const ready = await api("/api/info");  // the prototypes' classes are known once the gallery is
  if (!$("class-texts").value) $("class-texts").value = (ready.classes || []).join("\n");
}

init().catch((err) => { $("notes").textContent = `could not start: ${err.message}`; });
