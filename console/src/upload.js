// Drag-and-drop upload: create_upload (ext) answers a presigned S3 POST form for one file into the
// account's own uploads; the browser posts the file straight to S3 (XHR, for its upload progress).
import { call } from "./api.js";

const TYPES_BY_EXTENSION = {
  mp4: "video/mp4", m4v: "video/x-m4v", mov: "video/quicktime", mkv: "video/x-matroska", webm: "video/webm",
  avi: "video/x-msvideo", mpg: "video/mpeg", mpeg: "video/mpeg", ts: "video/mp2t", flv: "video/x-flv",
  "3gp": "video/3gpp", "3g2": "video/3gpp2", ogv: "video/ogg", wmv: "video/x-ms-wmv",
};

function contentType(file) {
  if (file.type) return file.type;
  const extension = file.name.split(".").pop().toLowerCase();
  return TYPES_BY_EXTENSION[extension] || "application/octet-stream";
}

function post(url, form, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.upload.addEventListener("progress", (event) => event.lengthComputable && onProgress(event.loaded / event.total));
    request.addEventListener("load", () =>
      request.status >= 200 && request.status < 300
        ? resolve()
        : reject(new Error(`the upload was refused: HTTP ${request.status} ${request.responseText.slice(0, 300)}`)),
    );
    // A network error, or an output bucket without CORS for this origin: the browser hides which.
    request.addEventListener("error", () => reject(new Error("the upload failed (network, or the input bucket's CORS)")));
    request.send(form);
  });
}

/** Upload `file`; resolves to create_upload's `data` (its `input` is what create_task takes). */
export async function upload(file, onProgress) {
  const form = await call("POST", "create_upload", { filename: file.name, size: file.size, content_type: contentType(file) });
  const body = new FormData();
  for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
  body.append("file", file); // last: S3 ignores fields after the file
  await post(form.url, body, onProgress);
  return form;
}
