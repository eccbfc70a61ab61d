// The web console: sign in, tasks (live), one task (every query_task field, the output played), a new
// task, templates and storages. Routes are the URL's hash, so the console is one static page.
import { ApiError, call, forgetKey, storeKey, storedKey } from "./api.js";
import { fill, formFields, formatTime, h } from "./dom.js";
import { play, stopPlayer } from "./player.js";
import { upload } from "./upload.js";

const TERMINAL = new Set(["success", "fail", "cancelled"]);
const POLL_MS = 2000; // gently: one list_task every 2 s while the list is open and a task is still moving
const LIST_DAYS = 7;
const main = document.getElementById("main");
let timer = null;

function stopPolling() {
  if (timer) clearTimeout(timer);
  timer = null;
}

function show(...children) {
  main.replaceChildren(...children);
}

function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error instanceof ApiError ? error.message : String(error));
}

async function guarded(target, action) {
  try {
    await action();
  } catch (error) {
    if (error instanceof ApiError && error.code === 1003 && !storedKey()) return route();
    target.replaceChildren(errorBox(error));
  }
}

function nav() {
  const key = storedKey();
  document.getElementById("nav").replaceChildren(
    ...(key
      ? [
          h("a", { href: "#/tasks" }, "Tasks"),
          h("a", { href: "#/new" }, "New task"),
          h("a", { href: "#/templates" }, "Templates"),
          h("a", { href: "#/storages" }, "Storages"),
          h("span", { class: "key" }, key.accessKeyId),
          h("button", { type: "button", id: "sign-out", onclick: () => (forgetKey(), (location.hash = "#/")) }, "Sign out"),
        ]
      : []),
  );
}

function signIn() {
  const message = h("div");
  const form = h(
    "form",
    { id: "sign-in", class: "card" },
    h("h2", {}, "Sign in"),
    h("p", {}, "With an access key of your account. It stays in this browser tab (session storage) and signs each request here."),
    h("label", {}, "Access key ID", h("input", { name: "ak", required: true, autocomplete: "username", pattern: "[A-Z0-9]{16}" })),
    h("label", {}, "Secret access key", h("input", { name: "sk", type: "password", required: true, autocomplete: "current-password" })),
    h("button", { type: "submit" }, "Sign in"),
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = { accessKeyId: form.ak.value.trim(), secretAccessKey: form.sk.value.trim() };
    try {
      await call("GET", "list_storage", {}, key); // proves the key before keeping it
      storeKey(key.accessKeyId, key.secretAccessKey);
      location.hash = "#/tasks";
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  show(form);
}

function progressBar(task) {
  const value = task.status === "success" ? 100 : task.progress || 0;
  const bar = h("div", { class: "bar" });
  bar.style.width = `${value}%`; // CSSOM, not a style attribute: the page's CSP allows no inline styles
  return h(
    "div",
    { class: `progress ${task.status}`, role: "progressbar", "aria-valuenow": value, "aria-valuemin": 0, "aria-valuemax": 100 },
    bar,
    h("span", {}, `${value}%`),
  );
}

async function taskList() {
  const body = h("tbody");
  const status = h("p", { class: "muted" });
  show(
    h("section", {}, h("h2", {}, `Tasks of the last ${LIST_DAYS} days`), status,
      h("table", { id: "tasks" },
        h("thead", {}, h("tr", {}, ["Task", "Created", "Status", "Progress", "Template", "Output"].map((t) => h("th", {}, t)))),
        body)),
  );
  const refresh = async () => {
    const now = Math.floor(Date.now() / 1000);
    const data = await call("GET", "list_task", { start_time: now - LIST_DAYS * 86400, end_time: now + 60, count: 100 });
    const tasks = [...data.list].sort((a, b) => b.create_time - a.create_time);
    body.replaceChildren(
      ...tasks.map((task) =>
        h("tr", { "data-task-id": task.task_id, "data-status": task.status },
          h("td", {}, h("a", { href: `#/tasks/${encodeURIComponent(task.task_id)}` }, task.task_id)),
          h("td", {}, formatTime(task.create_time)),
          h("td", {}, h("span", { class: `status ${task.status}` }, task.status)),
          h("td", {}, progressBar(task)),
          h("td", {}, task.template_name),
          h("td", {}, task.output)),
      ),
    );
    status.textContent = `${data.total} task(s); updated ${new Date().toLocaleTimeString()}`;
    if (tasks.some((task) => !TERMINAL.has(task.status))) timer = setTimeout(() => guarded(status, refresh), POLL_MS);
    else timer = setTimeout(() => guarded(status, refresh), POLL_MS * 5);
  };
  await guarded(status, refresh);
}

const TASK_FIELDS = [
  "task_id", "status", "progress", "create_time", "finish_time", "input", "input_url", "output", "objkey", "output_url",
  "bucket", "region", "region_type", "template_id", "template_name", "src_bitrate", "dst_bitrate", "duration",
  "src_width", "src_height", "dst_width", "dst_height", "err_code", "err_message",
];

function fieldValue(name, value) {
  if (name.endsWith("_time")) return value ? `${value} (${formatTime(value)})` : String(value);
  if (name.endsWith("_url") && value) return h("a", { href: value, target: "_blank", rel: "noopener noreferrer" }, value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

async function taskDetail(taskId) {
  const fields = h("tbody");
  const head = h("div");
  const video = h("video", { id: "player", controls: true, muted: true, playsinline: true, preload: "auto" });
  const playerBox = h("div", { class: "player", hidden: true }, video);
  const actions = h("div", { class: "actions" });
  show(h("section", {}, h("p", {}, h("a", { href: "#/tasks" }, "← Tasks")), h("h2", {}, `Task ${taskId}`), head, playerBox,
    h("table", { id: "task-fields", class: "fields" }, fields), actions));
  let played = false;
  let templates = null;
  const refresh = async () => {
    const task = await call("GET", "query_task", { task_id: taskId });
    fill(head, progressBar(task),
      task.status === "fail" ? h("p", { class: "error", id: "err-message" }, `${task.err_code}: ${task.err_message}`) : null);
    // Every field query_task returns: the contract's first, in its order, then any other.
    const names = [...TASK_FIELDS.filter((n) => n in task), ...Object.keys(task).filter((n) => !TASK_FIELDS.includes(n))];
    fields.replaceChildren(...names.map((n) => h("tr", { "data-field": n }, h("th", {}, n), h("td", {}, fieldValue(n, task[n])))));
    fill(actions,
      TERMINAL.has(task.status) ? null : h("button", { type: "button", onclick: () => guarded(actions, async () => {
        await call("POST", "cancel_task", { task_id: taskId });
        await refresh();
      }) }, "Cancel"),
      h("button", { type: "button", class: "danger", onclick: () => guarded(actions, async () => {
        if (!confirm(`Delete task ${taskId}?`)) return;
        await call("DELETE", "del_task", { task_id: taskId });
        location.hash = "#/tasks";
      }) }, "Delete"),
    );
    if (task.status === "success" && task.output_url && !played) {
      played = true;
      templates = templates || (await call("GET", "list_template")).list;
      const template = templates.find((t) => t.template_id === task.template_id || t.name === task.template_name);
      playerBox.hidden = false;
      play(video, task.output_url, template && template.format, (text) =>
        playerBox.append(h("p", { class: "error", id: "player-error" }, text)), taskId);
    }
    if (!TERMINAL.has(task.status)) timer = setTimeout(() => guarded(head, refresh), POLL_MS);
  };
  await guarded(head, refresh);
}

async function newTask() {
  const message = h("div");
  const templateSelect = h("select", { name: "template_name", required: true });
  const storageSelect = h("select", { name: "storage_id" });
  const form = h("form", { id: "new-task", class: "card" },
    h("h2", {}, "New task"),
    h("label", {}, "Input (s3://bucket/key or https://…)", h("input", { name: "input", required: true, placeholder: "s3://bucket/clip.mp4" })),
    h("label", {}, "Output key (relative to the storage's prefix)", h("input", { name: "output", required: true, placeholder: "clips/clip-360p" })),
    h("label", {}, "Template", templateSelect),
    h("label", {}, "Storage", storageSelect),
    h("button", { type: "submit" }, "Create task"),
    message);
  form.insertBefore(dropZone(form, message), form.querySelector("label"));
  show(form);
  await guarded(message, async () => {
    const [templates, storages] = await Promise.all([call("GET", "list_template"), call("GET", "list_storage")]);
    templateSelect.replaceChildren(...templates.list.map((t) => h("option", { value: t.name }, `${t.name} (${t.format}, ${t.resolution})`)));
    storageSelect.replaceChildren(...storages.list.map((s) => h("option", { value: s.storage_id }, `${s.storage_id} (${s.bucket})`)));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(message, async () => {
      const data = await call("POST", "create_task", formFields(form));
      location.hash = `#/tasks/${encodeURIComponent(data.task_id)}`;
    });
  });
}

/** Drop a file (or choose one): it is uploaded to the input bucket and becomes the form's input. */
function dropZone(form, message) {
  const status = h("span", { id: "upload-status" }, "Drop a video file here, or choose one: it is uploaded to your account's uploads.");
  const bar = h("div", { class: "bar" });
  const progress = h("div", { class: "progress", hidden: true }, bar);
  const chooser = h("input", { type: "file", accept: "video/*", id: "upload-file" });
  const zone = h("div", { id: "drop-zone", class: "drop-zone" }, status, progress, chooser);
  const send = (file) =>
    guarded(message, async () => {
      message.replaceChildren();
      progress.hidden = false;
      bar.style.width = "0%";
      status.textContent = `Uploading ${file.name}…`;
      const done = await upload(file, (fraction) => (bar.style.width = `${Math.round(fraction * 100)}%`));
      bar.style.width = "100%";
      status.textContent = `Uploaded ${file.name}: now choose a template and create the task.`;
      form.elements.namedItem("input").value = done.input;
      const output = form.elements.namedItem("output");
      if (!output.value) output.value = `uploads/${file.name.replace(/\.[^.]*$/, "")}`;
    }).catch(() => {});
  zone.addEventListener("dragover", (event) => (event.preventDefault(), zone.classList.add("over")));
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const [file] = event.dataTransfer.files;
    if (file) send(file);
  });
  chooser.addEventListener("change", () => chooser.files[0] && send(chooser.files[0]));
  return zone;
}

function listTable(id, columns, rows, remove) {
  return h("table", { id },
    h("thead", {}, h("tr", {}, [...columns, ""].map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", {}, row[c] ?? "")), h("td", {}, remove(row))))));
}

async function templatesPage() {
  const list = h("div");
  const message = h("div");
  const form = h("form", { id: "add-template", class: "card" },
    h("h3", {}, "Add a template"),
    h("label", {}, "Name", h("input", { name: "name", required: true })),
    h("label", {}, "Description", h("input", { name: "description" })),
    h("label", {}, "Format", h("select", { name: "format" }, ["mp4", "hls", "flv"].map((f) => h("option", {}, f)))),
    h("label", {}, "Resolution", h("input", { name: "resolution", value: "720p" })),
    h("label", {}, "Video codec", h("select", { name: "vcodec" }, ["h264", "h265"].map((f) => h("option", {}, f)))),
    h("label", {}, "Quality (1–10)", h("input", { name: "quality", type: "number", min: 1, max: 10, value: 5 })),
    h("label", {}, "Frame rate (0 keeps the source's)", h("input", { name: "framerate", type: "number", min: 0, max: 120, value: 0 })),
    h("label", {}, "Audio bitrate (kbps, 0 = default)", h("input", { name: "audio_bitrate", type: "number", value: 0 })),
    h("button", { type: "submit" }, "Add template"),
    message);
  show(h("section", {}, h("h2", {}, "Templates"), list, form));
  const refresh = async () => {
    const data = await call("GET", "list_template");
    list.replaceChildren(listTable("templates", ["name", "template_type", "format", "resolution", "vcodec", "quality", "description"],
      data.list, (t) => t.template_type === "custom"
        ? h("button", { type: "button", class: "danger", onclick: () => guarded(list, async () => {
            await call("DELETE", "del_template", { name: t.name });
            await refresh();
          }) }, "Delete")
        : ""));
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(message, async () => {
      await call("POST", "add_template", formFields(form));
      form.reset();
      message.replaceChildren();
      await refresh();
    });
  });
  await guarded(list, refresh);
}

async function storagesPage() {
  const list = h("div");
  const message = h("div");
  const typeSelect = h("select", { name: "type" }, h("option", {}, "s3"));
  const form = h("form", { id: "add-storage", class: "card" },
    h("h3", {}, "Add a storage"),
    h("label", {}, "Type", typeSelect),
    h("label", {}, "Region", h("input", { name: "region", required: true, placeholder: "us-east-1" })),
    h("label", {}, "Bucket", h("input", { name: "bucket", required: true })),
    h("label", {}, "Prefix", h("input", { name: "prefix" })),
    h("label", {}, "Endpoint (S3-compatible, optional)", h("input", { name: "endpoint", placeholder: "https://…" })),
    h("label", {}, "Access key of the bucket (optional)", h("input", { name: "storage_ak", autocomplete: "off" })),
    h("label", {}, "Secret key of the bucket (optional)", h("input", { name: "storage_sk", type: "password", autocomplete: "off" })),
    h("label", {}, "Callback URL (optional)", h("input", { name: "notify", placeholder: "https://…" })),
    h("button", { type: "submit" }, "Add storage"),
    message);
  show(h("section", {}, h("h2", {}, "Storages"), list, form));
  const refresh = async () => {
    const data = await call("GET", "list_storage");
    list.replaceChildren(listTable("storages", ["storage_id", "type", "region", "bucket", "prefix"], data.list, (s) =>
      s.storage_id === "default" ? "" : h("button", { type: "button", class: "danger", onclick: () => guarded(list, async () => {
        await call("DELETE", "del_storage", { storage_id: s.storage_id });
        await refresh();
      }) }, "Delete")));
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(message, async () => {
      await call("POST", "add_storage", formFields(form));
      form.reset();
      message.replaceChildren();
      await refresh();
    });
  });
  await guarded(list, refresh);
  guarded(message, async () => {
    const types = await call("GET", "list_storage_type");
    typeSelect.replaceChildren(...types.list.map((t) => h("option", {}, t)));
  });
}

function route() {
  stopPolling();
  stopPlayer();
  nav();
  const hash = location.hash.replace(/^#\/?/, "");
  if (!storedKey()) return signIn();
  const [page, id] = hash.split("/");
  if (page === "tasks" && id) return taskDetail(decodeURIComponent(id));
  if (page === "new") return newTask();
  if (page === "templates") return templatesPage();
  if (page === "storages") return storagesPage();
  return taskList();
}

window.addEventListener("hashchange", route);
route();
