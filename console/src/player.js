// The output played in the page: MP4 in <video>; HLS through hls.js (bundled), or natively where the
// browser plays HLS itself (Safari).
import Hls from "hls.js";
import { call } from "./api.js";

let current = null;

export function stopPlayer() {
  if (current) current.destroy();
  current = null;
}

/** A file's name relative to the folder of `masterUrl` (both URLs of one output folder). */
function nameBeside(masterUrl, url) {
  const folder = decodeURIComponent(new URL(masterUrl).pathname).replace(/[^/]*$/, "");
  const path = decodeURIComponent(new URL(url).pathname);
  return path.startsWith(folder) ? path.slice(folder.length) : path;
}

/**
 * hls.js's playlist loader for a task's output: the bucket is private and only the master is presigned,
 * so every playlist comes from the signed output_playlist route, its segments presigned there; segments
 * then load straight from those URLs with hls.js's own loader.
 */
function playlistLoader(taskId, masterUrl) {
  return class extends Hls.DefaultConfig.loader {
    load(context, config, callbacks) {
      const stats = this.stats;
      stats.loading.start = performance.now();
      call("GET", "output_playlist", { task_id: taskId, name: nameBeside(masterUrl, context.url) }).then(
        ({ playlist }) => {
          if (stats.aborted) return;
          stats.loading.first = stats.loading.end = performance.now();
          stats.loaded = stats.total = playlist.length;
          callbacks.onSuccess({ url: context.url, data: playlist }, stats, context, null);
        },
        (error) => {
          if (!stats.aborted) callbacks.onError({ code: error.status || 0, text: error.message }, context, null, stats);
        },
      );
    }

    abortInternal() {
      this.stats.aborted = true;
    }
  };
}

/** Play `url` in `video`; `onError(text)` hears what stopped it (a fatal hls.js error, a media error). */
export function play(video, url, format, onError = () => {}, taskId = null) {
  stopPlayer();
  const isHls = format === "hls" || /\.m3u8(\?|$)/.test(url);
  video.addEventListener("error", () => onError(`the browser cannot play this output (${video.error && video.error.message})`));
  if (isHls && Hls.isSupported()) {
    current = new Hls(taskId ? { pLoader: playlistLoader(taskId, url) } : {});
    current.on(Hls.Events.ERROR, (_, data) => {
      if (data.fatal) onError(`HLS playback failed: ${data.details}${data.response ? ` (HTTP ${data.response.code})` : ""}`);
    });
    current.loadSource(url);
    current.attachMedia(video);
  } else {
    video.src = url;
  }
}
