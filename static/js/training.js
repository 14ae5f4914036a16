// The Training page: upload, price, start, follow the job live, cancel, use and manage LoRAs.
// It speaks the REST API (templates/training/training.html renders the page).
(() => {
  const $ = (id) => document.getElementById(id);
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const api = async (url, options = {}) => {
    const response = await fetch(url, {credentials: "same-origin", ...options,
      headers: {"X-CSRFToken": csrf, ...(options.body instanceof FormData ? {} : {"Content-Type": "application/json"}), ...(options.headers || {})}});
    const body = await response.json().catch(() => ({}));
    if (!response.ok || body.success === false) {
      // The envelope's error then its details, as words (details may be a string or fields).
      throw new Error(window.Atelier.errorText({error: `The server answered ${response.status}`, ...body}));
    }
    return body;
  };
  let dataset = null;

  const showError = (message) => { $("form-error").textContent = message; $("form-error").hidden = !message; };

  $("id_files").addEventListener("change", async (event) => {
    const files = [...event.target.files];
    $("previews").replaceChildren(...files.filter((f) => f.type.startsWith("image/")).slice(0, 12).map((file) => {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file); img.alt = file.name; img.width = 64; img.height = 64;
      return img;
    }));
    if (!files.length) return;
    const form = new FormData();
    files.forEach((file) => form.append("files[]", file));
    $("upload-status").textContent = "Checking the images…";
    $("upload-warnings").replaceChildren();
    showError("");
    try {
      dataset = await api("/api/training/upload", {method: "POST", body: form});
      $("upload-status").textContent = `${dataset.image_count} images ready (${dataset.total_size}).`;
      $("upload-warnings").replaceChildren(...dataset.warnings.map((w) => Object.assign(document.createElement("li"), {textContent: w})));
      $("quote-btn").disabled = $("start-btn").disabled = false;
      quote();
    } catch (error) {
      dataset = null;
      $("upload-status").textContent = "";
      showError(error.message);
      $("quote-btn").disabled = $("start-btn").disabled = true;
    }
  });

  $("id_provider").addEventListener("change", (event) => {
    $("id_steps").value = event.target.selectedOptions[0].dataset.steps;
    if (dataset) quote();
  });
  $("id_steps").addEventListener("change", () => dataset && quote());

  const options = (extra = {}) => ({dataset_id: dataset.dataset_id, trigger_word: $("id_trigger_word").value || "style",
    provider: $("id_provider").value, steps: Number($("id_steps").value), ...extra});

  async function quote() {
    try {
      const answer = await api("/api/training/start", {method: "POST", body: JSON.stringify(options({dry_run: true}))});
      $("price").textContent = `Costs ${answer.cost} credits (you have ${answer.credits_remaining})` +
        (answer.sufficient ? "" : " — not enough credits");
      showError("");
    } catch (error) { showError(error.message); }
  }
  $("quote-btn").addEventListener("click", quote);

  $("training-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!dataset) return;
    try {
      const started = await api("/api/training/start", {method: "POST", body: JSON.stringify(options())});
      window.location.search = `?job=${started.training_id}`;
    } catch (error) { showError(error.message); }
  });

  const panel = $("job-panel");
  const history = JSON.parse($("loss-history").textContent) || [];
  function drawLoss() {
    if (history.length < 2) return;
    const steps = history.map((p) => p[0]), losses = history.map((p) => Math.log10(Math.max(p[1], 1e-9)));
    const [s0, s1] = [Math.min(...steps), Math.max(...steps)], [l0, l1] = [Math.min(...losses), Math.max(...losses)];
    $("loss-line").setAttribute("points", history.map((p, i) =>
      `${(300 * (steps[i] - s0) / Math.max(1, s1 - s0)).toFixed(1)},${(75 - 70 * (losses[i] - l0) / Math.max(1e-9, l1 - l0)).toFixed(1)}`).join(" "));
  }
  drawLoss();

  const jobId = panel.dataset.job;
  const terminal = ["completed", "failed", "cancelled"];
  if (jobId && !terminal.includes(panel.dataset.status)) {
    const stream = new EventSource(`/api/training/${jobId}/events`);
    stream.addEventListener("progress", (event) => {
      const data = JSON.parse(event.data);
      if (data.progress !== undefined) {
        $("job-progress").style.width = `${data.progress}%`;
        panel.querySelector("[role=progressbar]").setAttribute("aria-valuenow", data.progress);
      }
      if (data.current_step !== undefined) $("job-steps").textContent = `${data.current_step}/${$("job-steps").textContent.split("/")[1]}`;
      if (data.loss !== undefined) {
        $("job-loss").textContent = data.loss.toFixed(6);
        history.push([data.current_step, data.loss]); drawLoss();
      }
    });
    stream.addEventListener("log", (event) => { $("job-logs").textContent += JSON.parse(event.data).message + "\n"; });
    stream.addEventListener("sample", (event) => {
      const data = JSON.parse(event.data);
      const figure = document.createElement("figure");
      figure.style.margin = "0";
      figure.innerHTML = `<figcaption class="small muted">step ${data.step} · seed ${data.seed}</figcaption>`;
      const img = document.createElement("img");
      img.style.cssText = "width: 100%; height: auto; border-radius: 6px";
      img.src = `/api/training/${jobId}/files/sample-${$("samples").children.length}.png`;
      img.alt = `Sample at step ${data.step}, seed ${data.seed}`;
      figure.prepend(img);
      $("samples").append(figure);
    });
    stream.addEventListener("status", (event) => {
      const data = JSON.parse(event.data);
      $("job-status").textContent = data.status;
      if (terminal.includes(data.status)) { stream.close(); window.location.reload(); }
    });
  }

  $("cancel-btn").addEventListener("click", async () => {
    try { await api(`/api/training/${jobId}`, {method: "DELETE"}); window.location.reload(); }
    catch (error) { $("job-error").textContent = error.message; $("job-error").hidden = false; }
  });

  document.querySelectorAll("[data-lora]").forEach((item) => {
    const id = item.dataset.lora;
    const itemError = item.querySelector("[data-role=lora-error]");
    item.addEventListener("click", async (event) => {
      const action = event.target.dataset.action;
      if (!action) return;
      itemError.hidden = true;
      try { await loraAction(action); }
      catch (error) { itemError.textContent = error.message; itemError.hidden = false; }
    });
    async function loraAction(action) {
      if (action === "try") {
        const answer = await api("/api/generate", {method: "POST", body: JSON.stringify({model: "local/procedural",
          prompt: `${item.dataset.trigger} a landscape`, loras: [{path: id, scale: 1.0}], sync_mode: true})});
        const image = item.querySelector("img");
        if (answer.results && answer.results.length) { image.src = answer.results[0].url; image.hidden = false; }
      } else if (action === "rename") {
        const name = window.prompt("New name", item.querySelector(".lora-name").textContent);
        if (name) item.querySelector(".lora-name").textContent = (await api(`/api/loras/${id}`, {method: "PATCH", body: JSON.stringify({name})})).lora.name;
      } else if (action === "delete" && window.confirm("Delete this LoRA?")) {
        await api(`/api/loras/${id}`, {method: "DELETE"});
        item.remove();
      }
    }
  });
})();
