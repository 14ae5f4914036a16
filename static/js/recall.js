// Drop to recall: an image file dropped on the studio fills the form with the settings written
// inside it. The server reads the file (POST /api/provenance/verify, the same reader as the
// provenance API): Atelier's own record, or the "parameters" text other image tools write.
// The file is read, never stored; a drop on the reference image or mask inputs is theirs.
const { csrfToken, readEnvelope } = window.Atelier;

const form = document.getElementById("studio-form");
const status = document.getElementById("recall-status");
const field = (name) => form.elements.namedItem(name);

function say(text) {
  status.hidden = !text;
  status.textContent = text || "";
}

function changed(input) {
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

function set(name, value) {
  const input = field(name);
  if (!input || value == null || value === "") return false;
  input.value = String(value);
  changed(input);
  return true;
}

function choose(name, value) {
  // A select takes only a value it offers (and that is not switched off).
  const select = field(name);
  const option = select && [...select.options].find((item) => item.value === value && !item.disabled);
  if (!option) return false;
  select.value = value;
  changed(select);
  return true;
}

// One shape for both sources: Atelier's record first, the common text where it says nothing.
function settingsOf(provenance) {
  const own = provenance.atelier || {};
  const text = provenance.fields || {};
  const pick = (...values) => values.find((value) => value != null && value !== "");
  // What was sent: a style's words (or an enhanced prompt) are already in these, so the style is
  // not chosen again, which would add its words twice.
  return {
    prompt: pick(own.final_prompt, own.prompt, text.prompt),
    negative_prompt: pick(own.negative_prompt, text.negative_prompt),
    model: pick(own.model, text.model),
    seed: pick(own.seed, text.seed),
    width: pick(own.width, text.width),
    height: pick(own.height, text.height),
    steps: pick(own.steps, text.steps),
    guidance: pick(own.guidance, text.cfg_scale),
    style: own.style || "",
    lora: (own.loras || [])[0] || null,
  };
}

function fill(settings) {
  const notes = [];
  if (settings.model && !choose("model", settings.model)) notes.push(`its model (${settings.model}) is not available here`);
  // The model first: choosing one adapts the size limits and fields the rest goes into.
  set("prompt", settings.prompt);
  set("negative_prompt", settings.negative_prompt);
  if (settings.width && settings.height && choose("image_size", "custom")) {
    set("width", settings.width);
    set("height", settings.height);
  }
  set("seed", settings.seed);
  set("num_inference_steps", settings.steps);
  set("guidance_scale", settings.guidance);
  // "None": the style is written out in the prompts above.
  choose("art_style", "");
  if (settings.style) notes.push(`its style (${settings.style}) is written out in the prompt`);
  if (settings.lora) {
    const path = settings.lora.path || "";
    const chosen = choose("lora", path) || (/^https?:\/\//.test(path) && choose("lora", "url") && set("lora_path", path));
    if (chosen) set("lora_scale", settings.lora.scale);
    else notes.push("its LoRA is not one of yours");
  }
  return notes;
}

async function recall(file) {
  say(`Reading ${file.name}…`);
  const body = new FormData();
  body.append("file", file);
  try {
    const response = await fetch("/api/provenance/verify", {
      method: "POST",
      body,
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    });
    const answer = await readEnvelope(response);
    if (!response.ok || answer.success === false) {
      say(`${file.name}: ${answer.error || "the file could not be read"}.`);
      return;
    }
    const provenance = answer.provenance;
    if (!provenance.found) {
      say(`${file.name} carries no settings to recall.`);
      return;
    }
    const notes = fill(settingsOf(provenance));
    const maker = provenance.atelier ? "Atelier" : provenance.software || "another tool";
    const prompts = provenance.atelier && !provenance.atelier.prompt && !provenance.fields?.prompt ? " (its prompt was kept out of the file)" : "";
    say(`Filled from ${file.name}, made by ${maker}${prompts}.${notes.length ? ` Note: ${notes.join("; ")}.` : ""}`);
    field("prompt").focus();
  } catch {
    say("Could not reach the server. Check your connection and try again.");
  }
}

function imageFile(event) {
  const files = [...(event.dataTransfer?.files || [])];
  return files.find((file) => file.type.startsWith("image/")) || null;
}

function onFileInput(event) {
  return event.target instanceof HTMLInputElement && event.target.type === "file";
}

document.addEventListener("dragover", (event) => {
  if (onFileInput(event) || !event.dataTransfer?.types.includes("Files")) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
  form.classList.add("dropping");
});
document.addEventListener("dragleave", (event) => {
  if (!event.relatedTarget) form.classList.remove("dropping");
});
document.addEventListener("drop", (event) => {
  form.classList.remove("dropping");
  if (onFileInput(event)) return;
  const file = imageFile(event);
  if (!event.dataTransfer?.files.length) return;
  event.preventDefault();
  if (file) recall(file);
  else say("Drop an image file (PNG, JPEG or WebP) to use its settings.");
});
