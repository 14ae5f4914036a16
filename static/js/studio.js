// The studio: adapts the form to the chosen model, posts it to the REST API (JSON, or
// multipart FormData when files are attached), then follows the job over its server-sent
// event stream: queue position, progress, log lines, the picture as it is made (previews),
// and finally the images.
const { csrfToken, readEnvelope, showError, setBalance, refreshBalance } = window.Atelier;

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const STATUS_LABELS = {
  pending: "Starting…",
  in_queue: "In queue",
  processing: "Generating…",
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

const form = document.getElementById("studio-form");
const specs = JSON.parse(document.getElementById("model-specs").textContent);
const $ = (name) => form.elements.namedItem(name);

function currentSpec() {
  return specs[$("model").value] || null;
}

function setHidden(element, hidden) {
  element.hidden = hidden;
  for (const input of element.querySelectorAll("input, select, textarea")) input.disabled = hidden;
}

function adaptToModel() {
  const spec = currentSpec();
  if (!spec) return;
  const supports = new Set(spec.supports);
  for (const element of form.querySelectorAll("[data-supports]")) {
    setHidden(element, !supports.has(element.dataset.supports));
  }
  // A model without advanced parameters shows no empty section.
  document.getElementById("advanced").hidden = !["num_inference_steps", "guidance_scale", "strength"].some((name) =>
    supports.has(name),
  );

  // The previews checkbox stays as the user set it; it says when the chosen model sends none.
  document.getElementById("previews-none").hidden = spec.supports_previews !== false;

  setHidden(form.querySelector("fieldset[data-needs=image]"), !spec.takes_image);
  setHidden(form.querySelector("[data-needs=mask]"), !spec.takes_mask);
  $("image").required = spec.needs_image && !carriedReference();
  $("mask").required = spec.kind === "inpainting" && carriedReference()?.dataset.hasMask !== "true";

  for (const [name, key] of [
    ["num_inference_steps", "num_inference_steps"],
    ["guidance_scale", "guidance_scale"],
    ["strength", "strength"],
  ]) {
    const input = $(name);
    if (input) input.placeholder = spec.defaults[key] != null ? `default ${spec.defaults[key]}` : "";
  }

  // Presets outside the model's limits cannot be chosen; custom sizes are bounded the same way.
  // A model that works on a reference image makes its output at that image's size by default.
  const size = $("image_size");
  const fromInput = size.querySelector("option[value=input]");
  fromInput.hidden = fromInput.disabled = !spec.needs_image;
  if (spec.needs_image && size.dataset.model !== $("model").value) size.value = "input";
  size.dataset.model = $("model").value;
  for (const option of size.options) {
    if (option.value === "custom" || option.value === "input") continue;
    const width = Number(option.dataset.width);
    const height = Number(option.dataset.height);
    option.disabled =
      width < spec.min_width || width > spec.max_width || height < spec.min_height || height > spec.max_height;
  }
  if (size.selectedOptions[0]?.disabled) {
    size.value = [...size.options].find((option) => !option.disabled)?.value || "custom";
  }
  for (const [name, low, high, fallback] of [
    ["width", spec.min_width, spec.max_width, spec.default_width],
    ["height", spec.min_height, spec.max_height, spec.default_height],
  ]) {
    const input = $(name);
    input.min = low;
    input.max = high;
    const value = Number(input.value);
    if (!value || value < low || value > high) input.value = fallback;
  }
  document.getElementById("size-limits").textContent =
    `This model takes ${spec.min_width}–${spec.max_width} × ${spec.min_height}–${spec.max_height} px.`;

  const count = $("num_images");
  for (const option of count.options) option.disabled = Number(option.value) > spec.max_images;
  if (Number(count.value) > spec.max_images) count.value = String(spec.max_images);

  const info = document.getElementById("model-info");
  info.replaceChildren();
  const badges = document.createElement("div");
  badges.className = "badges";
  for (const [text, className] of [
    [spec.available ? "Available" : "Not configured here", spec.available ? "badge badge-ok" : "badge badge-off"],
    [spec.kind_label, "badge"],
    [spec.provider_label, "badge"],
  ]) {
    const badge = document.createElement("span");
    badge.className = className;
    badge.textContent = text;
    badges.append(badge);
  }
  info.append(badges);
  if (spec.description) {
    const description = document.createElement("p");
    description.className = "model-description";
    description.textContent = spec.description;
    info.append(description);
  }
  if (!spec.available && spec.unavailable_reason) {
    const reason = document.createElement("p");
    reason.className = "hint";
    reason.textContent = spec.unavailable_reason;
    info.append(reason);
  }
  showCustomSize();
  adaptLorasToModel();
  updateCost();
}

function showCustomSize() {
  setHidden(document.getElementById("custom-size"), $("image_size").value !== "custom");
}

function updateCost() {
  const spec = currentSpec();
  const images = Number($("num_images").value) || 1;
  const element = document.getElementById("cost");
  if (!spec) {
    element.textContent = "—";
    return;
  }
  // The price the server charges: the model's price per image, plus the LoRA extra when one is applied.
  const extra = chosenLora() && spec.lora_extra ? spec.lora_extra : 0;
  element.textContent = credits((spec.cost + extra) * images);
  document.getElementById("cost-detail").textContent = extra
    ? `includes ${credits(extra * images)} for the LoRA`
    : "";
}

// The reference image carried over from an earlier generation ("use these settings again"), if
// it is still in the form; the API reuses it by that generation's id (inputs_from).
function carriedReference() {
  return document.getElementById("reference-carried");
}

// LoRAs: the user's trained ones come from GET /api/loras; a model lists those it can apply
// (spec.lora_providers), and models that load LoRA weights by URL also take one by URL.
let loras = [];
let lorasLoaded = false;
// The trigger word the picker put at the start of the prompt, taken out again when the LoRA changes.
let addedTrigger = "";

function loraById(id) {
  return loras.find((lora) => lora.id === id) || null;
}

function loraFits(lora, spec) {
  return Boolean(spec && spec.lora_providers.includes(lora.provider));
}

// What the request's loras[0] will be: {path, trigger}, or null.
function chosenLora() {
  const select = $("lora");
  if (select.disabled || !select.value) return null;
  if (select.value === "url") {
    const url = $("lora_path").value.trim();
    return url ? { path: url, trigger: "" } : null;
  }
  const lora = loraById(select.value);
  return lora ? { path: lora.id, trigger: lora.trigger_word } : null;
}

function loraScale() {
  const value = Number($("lora_scale").value);
  return Number.isFinite(value) && $("lora_scale").value !== "" ? value : 1;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Whether ``text`` has ``word`` as a whole word, as the server checks before adding it again.
function hasWord(text, word) {
  return new RegExp(`(?<!\\w)${escapeRegExp(word)}(?!\\w)`, "i").test(text);
}

// Puts the chosen LoRA's trigger word at the start of the prompt (the model only applies what
// it learnt when the prompt names it), and takes out the one the previous choice added.
function setTrigger(trigger) {
  const prompt = $("prompt");
  let text = prompt.value;
  if (addedTrigger && addedTrigger !== trigger) {
    const leading = new RegExp(`^${escapeRegExp(addedTrigger)}(?!\\w)[\\s,]*`);
    text = text.replace(leading, "");
    addedTrigger = "";
  }
  if (trigger && !hasWord(text, trigger)) {
    text = text.trim() ? `${trigger} ${text}` : `${trigger} `;
    addedTrigger = trigger;
  }
  if (text !== prompt.value) prompt.value = text;
}

function loraHint(spec) {
  const hint = document.getElementById("lora-hint");
  hint.replaceChildren();
  const chosen = chosenLora();
  const fitting = loras.filter((lora) => loraFits(lora, spec));
  if (chosen && chosen.trigger) {
    hint.append(`Adds “${chosen.trigger}” to the prompt`);
    if (spec.lora_extra) hint.append(` and ${credits(spec.lora_extra)} per image.`);
    else hint.append(".");
  } else if (chosen) {
    if (spec.lora_extra) hint.append(`A LoRA adds ${credits(spec.lora_extra)} per image.`);
  } else if (lorasLoaded && !fitting.length && spec.lora_providers.length) {
    hint.append(loras.length ? "None of your LoRAs works with this model. " : "You have no LoRA for this model yet. ");
    const link = document.createElement("a");
    link.href = "/training";
    link.textContent = "Train one";
    hint.append(link, ".");
  }
}

function adaptLorasToModel() {
  const spec = currentSpec();
  const field = document.getElementById("lora-field");
  const select = $("lora");
  const usable = Boolean(spec && (spec.takes_loras || spec.lora_providers.length));
  setHidden(field, !usable);
  if (!usable) {
    setTrigger("");
    return;
  }
  for (const option of select.options) {
    if (option.value === "url") {
      option.hidden = option.disabled = !spec.takes_loras;
    } else if (option.value) {
      const lora = loraById(option.value);
      const fits = lora && loraFits(lora, spec);
      option.disabled = !fits;
      // The name, with the trigger word when the name does not already say it.
      const named = lora.name.toLowerCase().includes(lora.trigger_word.toLowerCase());
      const label = named ? lora.name : `${lora.name} · “${lora.trigger_word}”`;
      option.textContent = fits ? label : `${label} (not for this model)`;
    }
  }
  if (select.selectedOptions[0]?.disabled) select.value = "";
  showLoraChoice();
}

function showLoraChoice() {
  const spec = currentSpec();
  const byUrl = $("lora").value === "url";
  setHidden(document.getElementById("lora-url-field"), !byUrl);
  const chosen = $("lora").value && $("lora").value !== "url" ? loraById($("lora").value) : null;
  setTrigger(chosen ? chosen.trigger_word : "");
  for (const input of [$("lora_scale"), document.getElementById("id_lora_scale_range")]) input.disabled = !$("lora").value;
  if (spec) loraHint(spec);
}

function renderLoras() {
  const select = $("lora");
  const urlOption = select.querySelector("[data-url-option]");
  for (const option of [...select.options]) if (option.value && option !== urlOption) option.remove();
  for (const lora of loras) {
    const option = document.createElement("option");
    option.value = lora.id;
    option.dataset.provider = lora.provider;
    option.textContent = lora.name;
    select.insertBefore(option, urlOption);
  }
}

// The LoRA named by the query string (?lora=<id or URL>&lora_scale=): chosen, and when the
// model in the form cannot apply it, the first available model that can (text-to-image first).
function applyLoraPrefill() {
  const wanted = $("lora").dataset.prefill;
  if (!wanted) return;
  const lora = loraById(wanted);
  const byUrl = !lora && /^https?:\/\//.test(wanted);
  const hint = document.getElementById("lora-hint");
  if (!lora && !byUrl) {
    hint.textContent = "The LoRA in the link is not one of yours (any more); choose another.";
    return;
  }
  const fits = (spec) => Boolean(spec) && (lora ? loraFits(lora, spec) : spec.takes_loras);
  if (!fits(currentSpec())) {
    const candidates = Object.entries(specs).filter(([, spec]) => spec.available && fits(spec));
    const best = candidates.find(([, spec]) => spec.kind === "text-to-image") || candidates[0];
    if (!best) {
      hint.textContent = `${lora ? lora.name : "This LoRA"} needs a model whose provider is not configured here.`;
      return;
    }
    $("model").value = best[0];
    const group = $("model").selectedOptions[0]?.closest("optgroup");
    if (group) group.hidden = false;
    adaptToModel();
  }
  if (lora) {
    $("lora").value = lora.id;
  } else {
    $("lora").value = "url";
    $("lora_path").value = wanted;
  }
  showLoraChoice();
  updateCost();
}

async function loadLoras() {
  const select = $("lora");
  select.setAttribute("aria-busy", "true");
  try {
    const response = await fetch("/api/loras?limit=100", {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const answer = await readEnvelope(response);
    if (!response.ok || answer.success === false) throw new Error(answer.error);
    loras = answer.loras || [];
    lorasLoaded = true;
  } catch {
    loras = [];
    document.getElementById("lora-hint").textContent = "Your LoRAs could not be loaded; reload the page to try again.";
  } finally {
    select.removeAttribute("aria-busy");
  }
  renderLoras();
  adaptLorasToModel();
  applyLoraPrefill();
  updateCost();
}

function credits(count) {
  return `${count} credit${count === 1 ? "" : "s"}`;
}

function numberOrNull(value) {
  return value === "" || value == null ? null : Number(value);
}

// The request: only what the chosen model takes, named as the API names it.
function buildPayload() {
  const spec = currentSpec();
  const payload = { model: $("model").value, prompt: $("prompt").value.trim(), num_images: Number($("num_images").value) };
  if ($("image_size").value === "custom") {
    payload.width = Number($("width").value);
    payload.height = Number($("height").value);
  } else if ($("image_size").value !== "input") {
    payload.image_size = $("image_size").value;
  }
  const optional = {
    negative_prompt: $("negative_prompt").value.trim(),
    art_style: $("art_style").value,
    format: $("format").value,
    seed: numberOrNull($("seed").value),
    num_inference_steps: numberOrNull($("num_inference_steps").value),
    guidance_scale: numberOrNull($("guidance_scale").value),
    strength: numberOrNull($("strength").value),
  };
  for (const [name, value] of Object.entries(optional)) {
    const input = $(name);
    if (value === "" || value == null || (input && input.disabled)) continue;
    payload[name] = value;
  }
  // In-progress pictures are on unless the user turned them off.
  if (!$("previews").checked) payload.previews = false;
  const lora = chosenLora();
  if (lora) payload.loras = [{ path: lora.path, scale: loraScale() }];
  const carried = carriedReference();
  if (carried && spec && spec.takes_image && !$("image").files.length) {
    payload.inputs_from = carried.querySelector("input[name=inputs_from]").value;
  }
  const remixSource = document.getElementById("remix-source");
  if (remixSource) {
    // "Use all settings": the API takes every setting of that image, and the form's fields
    // override them. What the form leaves empty is asked for as empty, not taken from the image.
    payload.from_asset = remixSource.querySelector("input[name=from_asset]").value;
    if (!("negative_prompt" in payload) && !$("negative_prompt").disabled) payload.negative_prompt = "";
    if (!("art_style" in payload)) payload.art_style = "";
    if (!("seed" in payload) && !$("seed").disabled) payload.seed = null;
    if (!payload.loras) payload.loras = [];
  }
  return payload;
}

function clientErrors(payload) {
  const spec = currentSpec();
  const details = {};
  if (!spec) details.model = ["Choose a model."];
  else if (!spec.available) {
    details.model = [spec.unavailable_reason || "This model's provider is not configured on this server."];
  }
  if (spec && spec.kind !== "image-to-video" && !payload.prompt) details.prompt = ["Describe the image you want."];
  const carried = carriedReference();
  if (spec && spec.needs_image && !$("image").files.length && !carried) {
    details.image = ["This model starts from a reference image."];
  }
  if (spec && spec.kind === "inpainting" && !$("mask").files.length && !(carried && carried.dataset.hasMask === "true")) {
    details.mask = ["Inpainting needs a mask."];
  }
  if ($("lora").value === "url" && !$("lora_path").disabled && !$("lora_path").value.trim()) {
    details.loras = ["Paste the URL of the LoRA's weights, or choose None."];
  }
  return Object.keys(details).length ? { error: "Check the form", details } : null;
}

// Where each field the API may name is shown: an error goes beside its input.
const FIELD_INPUTS = {
  prompt: "prompt",
  negative_prompt: "negative_prompt",
  model: "model",
  image: "image",
  image_url: "image",
  inputs_from: "image",
  mask: "mask",
  mask_url: "mask",
  image_size: "image_size",
  width: "width",
  height: "height",
  num_images: "num_images",
  format: "format",
  output_format: "format",
  art_style: "art_style",
  seed: "seed",
  num_inference_steps: "num_inference_steps",
  guidance_scale: "guidance_scale",
  strength: "strength",
  loras: "lora",
};

function clearFieldErrors() {
  for (const list of form.querySelectorAll(".errorlist[data-field-error]")) list.remove();
  for (const input of form.querySelectorAll("[aria-invalid=true]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-errormessage");
  }
}

function messagesOf(value) {
  if (value == null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (typeof value === "object") return Object.values(value).flatMap(messagesOf);
  return [String(value)];
}

// Puts each of the envelope's field errors under its input; answers what had no place.
function showFieldErrors(details) {
  if (!details || typeof details !== "object" || Array.isArray(details)) return { rest: details, placed: 0 };
  const rest = {};
  let first = null;
  let placed = 0;
  for (const [field, value] of Object.entries(details)) {
    const input = FIELD_INPUTS[field] && $(FIELD_INPUTS[field]);
    const container = input && !input.disabled && input.closest(".field");
    if (!container || container.closest("[hidden]")) {
      rest[field] = value;
      continue;
    }
    const list = document.createElement("ul");
    list.className = "errorlist";
    list.dataset.fieldError = field;
    list.id = `error-${input.name}`;
    for (const message of messagesOf(value)) {
      const item = document.createElement("li");
      item.textContent = message;
      list.append(item);
    }
    const anchor = container.querySelector(".input-group") || input;
    anchor.after(list);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-errormessage", list.id);
    first = first || input;
    placed += 1;
  }
  if (first) {
    // Open the advanced section if that is where the first error is, then bring it into view.
    const details = first.closest("details");
    if (details) details.open = true;
    first.scrollIntoView({ block: "center", behavior: "smooth" });
    first.focus({ preventScroll: true });
  }
  return { rest: Object.keys(rest).length ? rest : null, placed };
}

function showSubmitError(envelope) {
  const errorBox = document.getElementById("form-error");
  const { rest, placed } = showFieldErrors(envelope.details);
  showError(errorBox, {
    ...envelope,
    error: placed && !rest ? `Check the highlighted field${placed === 1 ? "" : "s"}.` : envelope.error,
    details: rest,
  });
}

async function submit(event) {
  event.preventDefault();
  const errorBox = document.getElementById("form-error");
  showError(errorBox, null);
  clearFieldErrors();
  const payload = buildPayload();
  const problem = clientErrors(payload);
  if (problem) {
    showSubmitError(problem);
    return;
  }
  const files = ["image", "mask"].map((name) => $(name)).filter((input) => !input.disabled && input.files.length);
  let body;
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (files.length) {
    // Multipart carries the files; a list of objects (LoRAs) is spelled the way DRF reads
    // nested form data: loras[0]path, loras[0]scale.
    body = new FormData();
    // The page follows the job itself; a form post would otherwise wait for the result.
    body.append("sync_mode", "false");
    for (const [name, value] of Object.entries(payload)) {
      if (Array.isArray(value)) {
        value.forEach((item, index) => {
          for (const [key, inner] of Object.entries(item)) body.append(`${name}[${index}]${key}`, String(inner));
        });
      } else {
        // A form spells null as empty (DRF reads it back as null where null is allowed).
        body.append(name, value == null ? "" : String(value));
      }
    }
    for (const input of files) body.append(input.name, input.files[0]);
  } else {
    body = JSON.stringify(payload);
    headers["Content-Type"] = "application/json";
  }
  const button = document.getElementById("generate");
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const response = await fetch("/api/generate", { method: "POST", body, headers, credentials: "same-origin" });
    const answer = await readEnvelope(response);
    if (!response.ok || answer.success === false) {
      showSubmitError(answer);
      return;
    }
    setBalance(answer.credits_remaining);
    follow(answer.generation);
  } catch {
    showError(errorBox, { error: "Could not reach the server. Check your connection and try again." });
  } finally {
    button.disabled = false;
    button.textContent = "Generate";
  }
}

function part(card, role) {
  return card.querySelector(`[data-role=${role}]`);
}

function setProgress(card, percent) {
  const value = Math.max(0, Math.min(100, Math.round(percent)));
  const bar = part(card, "progress");
  bar.dataset.started = "1";
  if (Number(bar.getAttribute("aria-valuenow")) === value) return;
  bar.setAttribute("aria-valuenow", String(value));
  // Every value shown, in order: what a watcher of the bar saw.
  bar.dataset.history = `${bar.dataset.history},${value}`;
  part(card, "fill").style.width = `${value}%`;
  part(card, "percent").textContent = `${value}%`;
}

function setStatus(card, status) {
  const element = part(card, "status");
  element.dataset.status = status;
  element.textContent = STATUS_LABELS[status] || status;
  card.dataset.status = status;
  if (status !== "in_queue" && status !== "pending") part(card, "queue").textContent = "";
  const percent = part(card, "percent");
  if (["in_queue", "pending"].includes(status) && !part(card, "progress").dataset.started) {
    percent.textContent = "Waiting for a free worker…";
  } else if (percent.textContent.startsWith("Waiting")) {
    percent.textContent = `${part(card, "progress").getAttribute("aria-valuenow")}%`;
  }
  if (TERMINAL.has(status)) part(card, "cancel").hidden = true;
  showJobsBar();
}

// "Cancel all queued" shows while any job of the page waits for a worker.
function showJobsBar() {
  const waiting = document.querySelectorAll("#jobs .job[data-status=in_queue], #jobs .job[data-status=pending]");
  const bar = document.getElementById("jobs-bar");
  if (waiting.length) {
    bar.hidden = false;
  } else if (!document.getElementById("jobs-bar-status").textContent) {
    bar.hidden = true;
  }
}

async function cancelQueued() {
  const status = document.getElementById("jobs-bar-status");
  const response = await fetch("/api/generate/cancel", {
    method: "POST",
    body: JSON.stringify({ status: "in_queue" }),
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
  });
  const answer = await readEnvelope(response);
  if (!response.ok) {
    status.textContent = answer.error || "Could not cancel your queued jobs.";
    document.getElementById("jobs-bar").hidden = false;
    return;
  }
  const jobs = `${answer.cancelled} queued job${answer.cancelled === 1 ? "" : "s"}`;
  status.textContent = `Cancelled ${jobs}; ${credits(answer.credits_refunded)} back.`;
  document.getElementById("jobs-bar").hidden = false;
  setBalance(answer.credits_remaining);
}

// The newest in-progress picture replaces the one shown (an older one arriving late is ignored).
function showPreview(card, preview) {
  if (card.dataset.finished || preview.index <= Number(card.dataset.previewIndex ?? -1)) return;
  card.dataset.previewIndex = String(preview.index);
  // Every index shown, in order: what a watcher of the card saw.
  card.dataset.previews = card.dataset.previews ? `${card.dataset.previews},${preview.index}` : String(preview.index);
  const figure = part(card, "preview");
  const image = part(card, "preview-image");
  image.src = preview.image || preview.url;
  image.width = preview.width;
  image.height = preview.height;
  figure.style.setProperty("--ratio", `${preview.width} / ${preview.height}`);
  const stepped = preview.step != null && preview.total_steps;
  part(card, "preview-step").textContent = stepped ? `Step ${preview.step} of ${preview.total_steps}` : "In progress";
  figure.hidden = false;
  // The step it shows moves the bar forward (never back) between the provider's own reports.
  const percent = stepped ? Math.floor((100 * preview.step) / preview.total_steps) : 0;
  if (percent < 100 && percent > Number(part(card, "progress").getAttribute("aria-valuenow"))) setProgress(card, percent);
}

function hidePreview(card) {
  part(card, "preview").hidden = true;
  part(card, "preview-image").removeAttribute("src");
}

function setQueuePosition(card, position) {
  if (position == null || !["in_queue", "pending"].includes(card.dataset.status)) return;
  card.dataset.queuePosition = String(position);
  part(card, "queue").textContent =
    position === 0 ? "Next up" : `${position} job${position === 1 ? "" : "s"} ahead of yours`;
}

// The newest job is where the user looks: bring its card into view unless it already is.
function keepInView(card) {
  const box = card.getBoundingClientRect();
  const header = document.querySelector(".site-header")?.getBoundingClientRect().bottom || 0;
  if (box.top < header || box.top > window.innerHeight - 80) {
    card.scrollIntoView({ block: "start", behavior: "smooth" });
  }
}

function addLog(card, line) {
  const item = document.createElement("li");
  if (line.at) {
    const time = document.createElement("time");
    time.dateTime = line.at;
    time.textContent = new Date(line.at).toLocaleTimeString();
    item.append(time);
  }
  item.append(document.createTextNode(line.message || ""));
  const log = part(card, "log");
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

function renderResults(card, images) {
  const results = part(card, "results");
  results.replaceChildren();
  for (const image of images) {
    const tile = document.createElement("div");
    tile.className = "tile";
    // Shown in its own shape: the width and height the API reports, never a square crop.
    if (image.width && image.height) tile.style.setProperty("--ratio", `${image.width} / ${image.height}`);
    const link = document.createElement("a");
    link.href = `/asset/${image.id}`;
    link.setAttribute("aria-label", "Open this result");
    if (image.type === "video") {
      const video = document.createElement("video");
      video.src = image.url;
      video.muted = true;
      video.loop = true;
      video.autoplay = true;
      video.playsInline = true;
      link.append(video);
    } else {
      const img = document.createElement("img");
      img.src = image.url;
      img.alt = image.prompt || "Generated image";
      img.width = image.width;
      img.height = image.height;
      link.append(img);
    }
    const bar = document.createElement("div");
    bar.className = "tile-bar";
    bar.textContent = `${image.width}×${image.height} · ${image.format.toUpperCase()}${image.seed != null ? ` · seed ${image.seed}` : ""}`;
    tile.append(link, bar);
    results.append(tile);
  }
}

async function finish(card, generationId) {
  if (card.dataset.finished) return;
  card.dataset.finished = "1";
  const response = await fetch(`/api/generate/${generationId}`, { headers: { Accept: "application/json" } });
  const answer = await readEnvelope(response);
  if (!response.ok) {
    showError(part(card, "error"), answer);
    return;
  }
  const generation = answer.generation;
  setStatus(card, generation.status);
  hidePreview(card);
  if (generation.status === "completed") {
    setProgress(card, 100);
    renderResults(card, generation.images);
  } else if (generation.error) {
    showError(part(card, "error"), { error: generation.error, type: generation.error_type });
  }
  refreshBalance();
}

function follow(generation) {
  document.getElementById("canvas-empty").hidden = true;
  const card = document.getElementById("job-template").content.firstElementChild.cloneNode(true);
  card.id = `job-${generation.id}`;
  card.dataset.generation = generation.id;
  part(card, "prompt").textContent = generation.prompt;
  setStatus(card, generation.status);
  // The position the answer gave; the event stream replays the progress from the start.
  setQueuePosition(card, generation.queue_position);
  const jobs = document.getElementById("jobs");
  jobs.prepend(card);
  document.getElementById("jobs-bar-status").textContent = "";
  showJobsBar();
  jobs.scrollTop = 0;
  requestAnimationFrame(() => keepInView(card));

  part(card, "cancel").addEventListener("click", async () => {
    const response = await fetch(`/api/generate/${generation.id}`, {
      method: "DELETE",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    });
    if (!response.ok) showError(part(card, "error"), await readEnvelope(response));
  });

  const stream = new EventSource(`/api/generate/${generation.id}/events`);
  stream.addEventListener("status", (event) => {
    const data = JSON.parse(event.data);
    setStatus(card, data.status);
    if (TERMINAL.has(data.status)) {
      stream.close();
      finish(card, generation.id);
    }
  });
  stream.addEventListener("progress", (event) => setProgress(card, JSON.parse(event.data).progress));
  stream.addEventListener("log", (event) => addLog(card, JSON.parse(event.data)));
  stream.addEventListener("queue_position", (event) => setQueuePosition(card, JSON.parse(event.data).queue_position));
  stream.addEventListener("preview", (event) => showPreview(card, JSON.parse(event.data)));
  // The stream ends after the last status; the browser then reconnects on its own. Ask for the
  // job's state once instead, and stop following it when it is over.
  stream.addEventListener("error", async () => {
    const response = await fetch(`/api/generate/${generation.id}`, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      stream.close();
      showError(part(card, "error"), await readEnvelope(response));
      return;
    }
    const { generation: latest } = await response.json();
    if (TERMINAL.has(latest.status)) {
      stream.close();
      finish(card, generation.id);
    }
  });
}

// A preview of each chosen upload, so that a wrong file is noticed before paying for it.
for (const name of ["image", "mask"]) {
  $(name).addEventListener("change", () => {
    const preview = document.getElementById(`${name}-preview`);
    if (preview.src) URL.revokeObjectURL(preview.src);
    const file = $(name).files[0];
    preview.hidden = !file;
    if (file) preview.src = URL.createObjectURL(file);
    // A new reference image replaces the one carried over, and its mask with it.
    if (file && name === "image" && carriedReference()) {
      carriedReference().remove();
      adaptToModel();
    }
  });
}

// "Enhance prompt": POST /api/prompts/enhance writes a richer prompt (an LLM when one is
// configured, an offline composer otherwise); the old text can be had back with Ctrl+Z.
document.getElementById("enhance-prompt").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const prompt = $("prompt");
  const status = document.getElementById("enhance-status");
  clearFieldErrors();
  if (!prompt.value.trim()) {
    showFieldErrors({ prompt: ["Write a few words first; enhancing adds detail to them."] });
    return;
  }
  button.disabled = true;
  status.hidden = false;
  status.textContent = "Enhancing…";
  try {
    const response = await fetch("/api/prompts/enhance", {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
      body: JSON.stringify({ prompt: prompt.value.trim() }),
    });
    const answer = await readEnvelope(response);
    if (!response.ok || answer.success === false) {
      status.hidden = true;
      showFieldErrors({ prompt: [answer.error || "The prompt could not be enhanced."] });
      return;
    }
    prompt.focus();
    prompt.select();
    // execCommand keeps the change in the textarea's undo history; assignment is the fallback.
    if (!document.execCommand("insertText", false, answer.enhancement.prompt)) prompt.value = answer.enhancement.prompt;
    status.textContent =
      answer.enhancement.enhanced_by === "offline"
        ? "Prompt enhanced (offline composer). Press Ctrl+Z to undo."
        : "Prompt enhanced. Press Ctrl+Z to undo.";
  } catch {
    status.textContent = "Could not reach the server. Check your connection and try again.";
  } finally {
    button.disabled = false;
  }
});

const showUnavailable = document.getElementById("show-unavailable");
if (showUnavailable) {
  showUnavailable.addEventListener("change", () => {
    for (const group of $("model").querySelectorAll("optgroup[data-unavailable]")) group.hidden = !showUnavailable.checked;
  });
}

$("model").addEventListener("change", adaptToModel);
$("lora").addEventListener("change", () => {
  showLoraChoice();
  updateCost();
  if ($("lora").value === "url") $("lora_path").focus();
});
$("lora_path").addEventListener("input", () => {
  showLoraChoice();
  updateCost();
});
// The slider covers the usual range (0-2); the number takes the API's whole range (0-4).
document.getElementById("id_lora_scale_range").addEventListener("input", (event) => {
  $("lora_scale").value = event.target.value;
});
$("lora_scale").addEventListener("input", () => {
  document.getElementById("id_lora_scale_range").value = String(Math.min(2, loraScale()));
});
const remixClear = document.getElementById("remix-clear");
if (remixClear) {
  remixClear.addEventListener("click", () => {
    document.getElementById("remix-source").remove();
    $("prompt").focus();
  });
}
const referenceClear = document.getElementById("reference-clear");
if (referenceClear) {
  referenceClear.addEventListener("click", () => {
    carriedReference().remove();
    adaptToModel();
    $("image").focus();
  });
}
$("image_size").addEventListener("change", showCustomSize);
$("num_images").addEventListener("change", updateCost);
document.getElementById("random-seed").addEventListener("click", () => {
  $("seed").value = String(Math.floor(Math.random() * 4294967295));
});
form.addEventListener("submit", submit);
document.getElementById("cancel-queued").addEventListener("click", cancelQueued);
// Whether to show previews is remembered in this browser.
if (localStorage.getItem("atelier.previews") === "off") $("previews").checked = false;
$("previews").addEventListener("change", () => {
  localStorage.setItem("atelier.previews", $("previews").checked ? "on" : "off");
});
$("prompt").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});
// A model chosen by the query string stays visible even when its provider is not configured.
const chosenGroup = $("model").selectedOptions[0]?.closest("optgroup[data-unavailable]");
if (chosenGroup) chosenGroup.hidden = false;
adaptToModel();
loadLoras();
for (const generation of JSON.parse(document.getElementById("running-jobs").textContent).reverse()) follow(generation);
