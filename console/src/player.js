// The output played in the page: MP4 in <video>; HLS through hls.js (bundled), or natively where the
// browser plays HLS itself (Safari).
import Hls from "hls.js";

let current = null;

export function stopPlayer() {
  if (current) current.destroy();
  current = null;
}

/** Play `url` in `video`; `onError(text)` hears what stopped it (a fatal hls.js error, a media error). */
export function play(video, url, format, onError = () => {}) {
  stopPlayer();
  const isHls = format === "hls" || /\.m3u8(\?|$)/.test(url);
  video.addEventListener("error", () => onError(`the browser cannot play this output (${video.error && video.error.message})`));
  if (isHls && Hls.isSupported()) {
    current = new Hls();
    current.on(Hls.Events.ERROR, (_, data) => {
      if (data.fatal) onError(`HLS playback failed: ${data.details}${data.response ? ` (HTTP ${data.response.code})` : ""}`);
    });
    current.loadSource(url);
    current.attachMedia(video);
  } else {
    video.src = url;
  }
}
