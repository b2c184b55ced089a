// The tfembed app page: search, similar images, zero-shot classify. Plain DOM, no framework.
"use strict";

const $ = (id) => document.getElementById(id);
let droppedFile = null;

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
  setupDrop();
  const info = await api("/api/info");
  $("model-name").textContent = info.model;
  $("k").value = info.k;
  if (!info.classify) {
    $("classify-section").classList.add("disabled");
    showError("classify-error", "this export takes precomputed image features: classify needs an export with an image input");
  }
  await pollStatus(info);
  const ready = await api("/api/info");  // the prototypes' classes are known once the gallery is
  if (!$("class-texts").value) $("class-texts").value = (ready.classes || []).join("\n");
}

init().catch((err) => { $("notes").textContent = `could not start: ${err.message}`; });
