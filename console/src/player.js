// The output played in the page: MP4 in <video>; HLS through hls.js (bundled), or natively where the
// browser plays HLS itself (Safari).
import Hls from "hls.js";

let current = null;

export function stopPlayer() {
  if (current) current.destroy();
  current = null;
}

export function play(video, url, format) {
  stopPlayer();
  const isHls = format === "hls" || /\.m3u8(\?|$)/.test(url);
  if (isHls && Hls.isSupported()) {
    current = new Hls();
    current.loadSource(url);
    current.attachMedia(video);
  } else {
    video.src = url;
  }
}
