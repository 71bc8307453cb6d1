/* PhotoFlow web page: upload photos, follow each one through the workflow,
 * show its results, and browse recent photos.
 *
 * Plain DOM, no framework and no build step. Everything that comes from the
 * server or from a file name reaches the page through textContent or a
 * checked attribute, never as HTML.
 */
(function () {
  "use strict";

  // Defaults follow template.yaml's parameters (MaxPhotoBytes, DirectUploadMaxBytes);
  // config.js overrides them for a deployment. The server checks every upload again
  // and its verdict is what the page shows, so these only save a pointless upload.
  const DEFAULTS = {
    apiBaseUrl: "",
    maxBytes: 52428800,
    directUploadMaxBytes: 4194304,
    galleryPageSize: 12,
    parallelUploads: 3,
    pollFirstDelayMs: 300,
    pollMaxDelayMs: 3000,
    pollTimeoutMs: 3 * 60 * 1000,
  };
  const config = Object.assign({}, DEFAULTS, window.PHOTOFLOW_CONFIG || {});
  const apiBase = String(config.apiBaseUrl || "").replace(/\/+$/, "");

  // Browsers leave File.type empty for some photo formats (HEIC on most desktops).
  const TYPE_BY_EXTENSION = {
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    png: "image/png",
    webp: "image/webp",
    gif: "image/gif",
    tif: "image/tiff",
    tiff: "image/tiff",
    heic: "image/heic",
    heif: "image/heif",
  };
  const TERMINAL = new Set(["COMPLETED", "FAILED"]);
  const STATUS = {
    QUEUED: { badge: "Queued", text: "Waiting for other uploads to finish" },
    UPLOADING: { badge: "Uploading", text: "Uploading" },
    AWAITING_UPLOAD: { badge: "Uploading", text: "Upload sent, waiting for it to arrive" },
    ACCEPTED: { badge: "Accepted", text: "Uploaded, waiting to be processed" },
    PROCESSING: { badge: "Processing", text: "Making thumbnails, filters and metadata" },
    COMPLETED: { badge: "Completed", text: "Processed" },
    FAILED: { badge: "Failed", text: "Processing failed" },
    REJECTED: { badge: "Not uploaded", text: "" },
  };

  const elements = {
    input: document.getElementById("file-input"),
    dropzone: document.getElementById("dropzone"),
    maxSize: document.getElementById("max-size"),
    uploadList: document.getElementById("upload-list"),
    uploadsEmpty: document.getElementById("uploads-empty"),
    gallery: document.getElementById("gallery"),
    galleryHeading: document.getElementById("gallery-heading"),
    galleryStatus: document.getElementById("gallery-status"),
    galleryRefresh: document.getElementById("gallery-refresh"),
    main: document.getElementById("main"),
    signedOut: document.getElementById("signed-out"),
    session: document.getElementById("session"),
    userName: document.getElementById("user-name"),
    signIn: document.getElementById("sign-in"),
    signInMain: document.getElementById("sign-in-main"),
    signOut: document.getElementById("sign-out"),
    loadMore: document.getElementById("load-more"),
    announcer: document.getElementById("announcer"),
  };

  // ------------------------------------------------------------------ helpers

  /** An element with attributes, listeners (onclick: fn) and text or node children. */
  function h(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** The URL if it is http(s), else null: a server value never becomes a javascript: link. */
  function safeUrl(value) {
    try {
      const url = new URL(String(value), window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function isNumber(value) {
    return typeof value === "number" && Number.isFinite(value);
  }

  function formatBytes(bytes) {
    const oneDecimal = (n) => String(Math.round(n * 10) / 10);
    if (bytes >= 1024 * 1024) return `${oneDecimal(bytes / (1024 * 1024))} MB`;
    if (bytes >= 1024) return `${oneDecimal(bytes / 1024)} KB`;
    return `${bytes} bytes`;
  }

  /** A camera's local time as recorded: no conversion to the viewer's time zone. */
  function formatTakenAt(value) {
    const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      String(value),
    );
    if (!match) return String(value);
    const zone = match[3] ? ` (UTC${match[3] === "Z" ? "" : match[3]})` : "";
    return `${match[1]} ${match[2]}${zone}`;
  }

  const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  function formatInstant(value) {
    const date = new Date(String(value));
    return Number.isNaN(date.getTime()) ? "" : dateTime.format(date);
  }

  /** "Processed in 1.6 s", from the photo's timestamps. */
  function processingTime(photo) {
    const seconds = (Date.parse(photo.completedAt) - Date.parse(photo.createdAt)) / 1000;
    if (!Number.isFinite(seconds) || seconds < 0) return "Processed";
    return `Processed in ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  }

  function extensionOf(name) {
    const dot = name.lastIndexOf(".");
    return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  }

  function contentTypeOf(file) {
    if (file.type.startsWith("image/")) return file.type;
    return TYPE_BY_EXTENSION[extensionOf(file.name)] || "application/octet-stream";
  }

  function wait(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** At most `size` tasks at a time; the others wait their turn. */
  function pool(size) {
    let running = 0;
    const waiting = [];
    function next() {
      if (running >= size || waiting.length === 0) return;
      running += 1;
      const { task, resolve, reject } = waiting.shift();
      Promise.resolve()
        .then(task)
        .then(resolve, reject)
        .finally(() => {
          running -= 1;
          next();
        });
    }
    return (task) =>
      new Promise((resolve, reject) => {
        waiting.push({ task, resolve, reject });
        next();
      });
  }

  // Several cards can change in the same instant: gather them into one announcement.
  let pendingAnnouncements = [];
  let announceTimer = null;
  function announce(message) {
    pendingAnnouncements.push(message);
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      elements.announcer.textContent = pendingAnnouncements.join(". ");
      pendingAnnouncements = [];
    }, 150);
  }

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(status, name, message) {
      super(message);
      this.status = status;
      this.name = name;
    }
  }

  /** The API's {"error", "message"} body as an ApiError; other bodies as best we can. */
  function apiError(status, text) {
    let body = null;
    try {
      body = JSON.parse(text);
    } catch (_) {
      // not JSON: API Gateway or a proxy answered, not the photos API
    }
    const name = body && typeof body.error === "string" ? body.error : `HTTP ${status}`;
    const message =
      body && typeof body.message === "string"
        ? body.message
        : (text || "").trim().slice(0, 300) || "The server refused the request.";
    return new ApiError(status, name, message);
  }

  /** S3's XML error (<Code>, <Message>) as an ApiError. */
  function storageError(status, text) {
    let code = `HTTP ${status}`;
    let message = "The storage service refused the upload.";
    try {
      const xml = new DOMParser().parseFromString(text || "", "application/xml");
      code = xml.querySelector("Code")?.textContent || code;
      message = xml.querySelector("Message")?.textContent || message;
    } catch (_) {
      // keep the generic message
    }
    return new ApiError(status, code, message);
  }

  const auth = window.PhotoFlowAuth || { enabled: false, idToken: async () => null };

  /** The signed-in user's ID token (ApiAuth COGNITO): sent to the API only, never to storage. */
  async function authHeaders() {
    const token = await auth.idToken();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  /** The API refused the token (expired, revoked): ask to sign in again. */
  function refused(error) {
    if (error.status === 401 && auth.enabled) {
      auth.forget();
      session.show();
    }
    return error;
  }

  async function apiRequest(path, options) {
    let response;
    try {
      response = await fetch(apiBase + path, {
        cache: "no-store",
        ...options,
        headers: {
          Accept: "application/json",
          ...(await authHeaders()),
          ...((options && options.headers) || {}),
        },
      });
    } catch (_) {
      throw new ApiError(0, "NetworkError", "Could not reach PhotoFlow. Check your connection.");
    }
    const text = await response.text();
    if (!response.ok) throw refused(apiError(response.status, text));
    if (response.status === 204) return null;
    try {
      return JSON.parse(text);
    } catch (_) {
      throw new ApiError(response.status, "BadResponse", "The server sent an unreadable answer.");
    }
  }

  /** XMLHttpRequest, for its upload progress events (fetch has none). */
  function send(method, url, body, { headers = {}, onProgress } = {}) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open(method, url);
      for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
      if (onProgress) {
        request.upload.addEventListener("progress", (event) => {
          if (event.lengthComputable) onProgress(event.loaded / event.total);
        });
      }
      request.addEventListener("load", () =>
        resolve({ status: request.status, text: request.responseText }),
      );
      const failed = () =>
        reject(new ApiError(0, "NetworkError", "The upload was interrupted. Check your connection."));
      request.addEventListener("error", failed);
      request.addEventListener("abort", failed);
      request.addEventListener("timeout", failed);
      request.send(body);
    });
  }

  async function uploadDirect(file, onProgress) {
    const url = `${apiBase}/photos?filename=${encodeURIComponent(file.name)}`;
    const response = await send("POST", url, file, {
      headers: { "Content-Type": contentTypeOf(file), ...(await authHeaders()) },
      onProgress,
    });
    if (response.status >= 400 || response.status === 0) {
      throw refused(apiError(response.status, response.text));
    }
    return JSON.parse(response.text);
  }

  /** Large files: ask the API for a presigned form, then post the file straight to S3. */
  async function uploadPresigned(file, onProgress) {
    const grant = await apiRequest("/photos/uploads", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ filename: file.name, contentType: contentTypeOf(file), size: file.size }),
    });
    if (isNumber(grant.maxBytes)) config.maxBytes = grant.maxBytes;
    const target = grant.upload && safeUrl(grant.upload.url);
    if (!target) throw new ApiError(0, "BadResponse", "The server sent no upload address.");
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.upload.fields || {})) form.append(name, value);
    form.append("file", file); // S3 ignores every field after the file
    const response = await send("POST", target, form, { onProgress });
    if (response.status < 200 || response.status >= 300) {
      throw storageError(response.status, response.text);
    }
    return { photoId: grant.photoId, status: "AWAITING_UPLOAD", statusUrl: grant.statusUrl };
  }

  // ------------------------------------------------------------------ photo views

  function thumbnailsOf(photo) {
    const thumbnails = Array.isArray(photo.thumbnails) ? photo.thumbnails.filter((t) => safeUrl(t.url)) : [];
    return thumbnails.sort((a, b) => (b.width || 0) - (a.width || 0));
  }

  /** The 256 px thumbnail (or the smallest there is) and the largest one. */
  function pickThumbnails(photo) {
    const thumbnails = thumbnailsOf(photo);
    if (thumbnails.length === 0) return null;
    const small = thumbnails.find((t) => String(t.name) === "256") || thumbnails[thumbnails.length - 1];
    return { small, large: thumbnails[0] };
  }

  // ------------------------------------------------------------------ pictures and placeholders

  /** Each modern format's sources, best first: a browser takes the first type it decodes. */
  const SOURCE_FORMATS = [
    { format: "avif", type: "image/avif" },
    { format: "webp", type: "image/webp" },
  ];

  /** The renditions of one format at the thumbnail sizes (not the square), as a srcset:
   * one file per width (a photo smaller than two sizes has two files of its own width). */
  function srcsetOf(photo, format) {
    const renditions = Array.isArray(photo.renditions) ? photo.renditions : [];
    const byWidth = new Map();
    renditions
      .filter((r) => r.format === format && r.name !== "square" && isNumber(r.width) && safeUrl(r.url))
      .sort((a, b) => a.width - b.width)
      .forEach((r) => byWidth.has(r.width) || byWidth.set(r.width, `${safeUrl(r.url)} ${r.width}w`));
    return Array.from(byWidth.values()).join(", ");
  }

  /** <picture>: an AVIF and a WebP <source> (when the photo has them), then the JPEG <img>.
   * `sizes` is the small thumbnail's width: a screen of twice the density takes a larger one. */
  function pictureOf(photo, small, imgAttributes) {
    const sizes = `${small.width}px`;
    const sources = SOURCE_FORMATS.map(({ format, type }) => {
      const srcset = srcsetOf(photo, format);
      return srcset ? h("source", { type, srcset, sizes, "data-format": format }) : null;
    });
    const jpegs = srcsetOf(photo, "jpeg");
    const img = h("img", { src: safeUrl(small.url), srcset: jpegs || null, sizes: jpegs ? sizes : null, ...imgAttributes });
    return { picture: h("picture", {}, sources, img), img };
  }

  // BlurHash (https://blurha.sh, the algorithm published by Wolt under the MIT licence):
  // a photo's few DCT components in base 83, decoded here into pixels.
  const BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function decode83(text) {
    let value = 0;
    for (const character of text) {
      const digit = BASE83.indexOf(character);
      if (digit < 0) throw new Error("not a BlurHash");
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(value) {
    const v = value / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  function toSrgb(value) {
    const v = Math.max(0, Math.min(1, value));
    return Math.trunc((v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255 + 0.5);
  }

  function signedPow(value, exponent) {
    return Math.sign(value) * Math.pow(Math.abs(value), exponent);
  }

  /** The RGBA pixels (width x height) a BlurHash stands for; throws on a malformed one. */
  function decodeBlurhash(hash, width, height) {
    const text = String(hash || "");
    if (text.length < 6) throw new Error("not a BlurHash");
    const sizeFlag = decode83(text[0]);
    const numY = Math.floor(sizeFlag / 9) + 1;
    const numX = (sizeFlag % 9) + 1;
    if (text.length !== 4 + 2 * numX * numY) throw new Error("not a BlurHash");
    const maximum = (decode83(text[1]) + 1) / 166;
    const colours = [];
    for (let i = 0; i < numX * numY; i += 1) {
      if (i === 0) {
        const value = decode83(text.substring(2, 6));
        colours.push([toLinear(value >> 16), toLinear((value >> 8) & 255), toLinear(value & 255)]);
      } else {
        const value = decode83(text.substring(4 + i * 2, 6 + i * 2));
        const quantised = [Math.floor(value / (19 * 19)), Math.floor(value / 19) % 19, value % 19];
        colours.push(quantised.map((q) => signedPow((q - 9) / 9, 2) * maximum));
      }
    }
    const pixels = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const sum = [0, 0, 0];
        for (let j = 0; j < numY; j += 1) {
          for (let i = 0; i < numX; i += 1) {
            const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
            const colour = colours[i + j * numX];
            for (let c = 0; c < 3; c += 1) sum[c] += colour[c] * basis;
          }
        }
        const at = 4 * (x + y * width);
        pixels[at] = toSrgb(sum[0]);
        pixels[at + 1] = toSrgb(sum[1]);
        pixels[at + 2] = toSrgb(sum[2]);
        pixels[at + 3] = 255;
      }
    }
    return pixels;
  }

  /** A small canvas painted with the photo's BlurHash, over `img` until it has loaded (or
   * failed: its alt text shows then). Null when the photo has no valid BlurHash. */
  function placeholderFor(photo, img, small) {
    const hash = photo.blurhash || (photo.metadata && photo.metadata.blurhash);
    if (!hash) return null;
    const width = 32;
    const height = Math.max(1, Math.round((width * (small.height || 1)) / (small.width || 1)));
    let pixels;
    try {
      pixels = decodeBlurhash(hash, width, height);
    } catch (_) {
      return null;
    }
    const canvas = h("canvas", { class: "blurhash", width, height, "aria-hidden": "true", "data-testid": "blurhash" });
    canvas.getContext("2d").putImageData(new ImageData(pixels, width, height), 0, 0);
    const done = () => canvas.remove();
    img.addEventListener("load", done, { once: true });
    img.addEventListener("error", done, { once: true });
    if (img.complete && img.naturalWidth > 0) return null;
    return canvas;
  }

  /** The photo's picture with its placeholder, inside a box that stacks them. */
  function pictureWithPlaceholder(photo, small, imgAttributes, boxClass) {
    const { picture, img } = pictureOf(photo, small, imgAttributes);
    return h("span", { class: `picture-box ${boxClass}` }, picture, placeholderFor(photo, img, small));
  }

  function edgeLabel(thumbnail) {
    return /^\d+$/.test(String(thumbnail.name))
      ? `${thumbnail.name} px`
      : `${Math.max(thumbnail.width || 0, thumbnail.height || 0)} px`;
  }

  function newTabHint() {
    return h("span", { class: "visually-hidden" }, " (opens in a new tab)");
  }

  function metadataRow(label, ...value) {
    return [h("dt", {}, label), h("dd", {}, ...value)];
  }

  function metadataList(photo) {
    const metadata = photo.metadata || {};
    const rows = [];
    if (isNumber(metadata.width) && isNumber(metadata.height)) {
      rows.push(
        metadataRow("Dimensions", h("span", { "data-testid": "dimensions" }, `${metadata.width} × ${metadata.height} px`)),
      );
    }
    const camera = metadata.camera || {};
    const cameraName = [camera.make, camera.model].filter((part) => typeof part === "string" && part).join(" ");
    rows.push(
      metadataRow(
        "Camera",
        h("span", { "data-testid": "camera" }, cameraName || "Not recorded"),
        typeof camera.lens === "string" && camera.lens ? h("span", { class: "muted" }, ` · ${camera.lens}`) : null,
      ),
    );
    rows.push(
      metadataRow(
        "Taken",
        metadata.takenAt
          ? h("time", { datetime: String(metadata.takenAt), "data-testid": "taken-at" }, formatTakenAt(metadata.takenAt))
          : h("span", { "data-testid": "taken-at", class: "muted" }, "Not recorded"),
      ),
    );
    const format = [metadata.format, isNumber(photo.size) ? formatBytes(photo.size) : null]
      .filter(Boolean)
      .join(" · ");
    if (format) rows.push(metadataRow("Format", format));
    const gps = metadata.gps;
    if (gps && isNumber(gps.latitude) && isNumber(gps.longitude)) {
      const lat = gps.latitude.toFixed(5);
      const lon = gps.longitude.toFixed(5);
      const map = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`;
      rows.push(
        metadataRow(
          "Location",
          h("span", { "data-testid": "location" }, `lat ${lat}, lon ${lon}`),
          isNumber(gps.altitude) ? h("span", { class: "muted" }, ` · ${Math.round(gps.altitude)} m`) : null,
          h("br"),
          h(
            "a",
            { href: map, target: "_blank", rel: "noopener noreferrer", "data-testid": "location-link" },
            "Show on OpenStreetMap",
            newTabHint(),
          ),
        ),
      );
    } else {
      rows.push(metadataRow("Location", h("span", { class: "muted" }, "Not recorded")));
    }
    const colours = paletteOf(metadata);
    if (colours.length > 0) {
      rows.push(
        metadataRow(
          "Colours",
          h(
            "ul",
            { class: "swatches", "aria-label": "Dominant colours, by the share of the photo they cover" },
            colours.map(({ colour, share }) => {
              const chip = h("span", { class: "swatch__chip", "aria-hidden": "true" });
              chip.style.backgroundColor = colour;
              return h(
                "li",
                { class: "swatch", "data-testid": "colour-swatch" },
                chip,
                h("code", {}, colour.toLowerCase()),
                share === null ? null : h("span", { class: "swatch__share", "data-testid": "colour-share" }, ` ${formatShare(share)}`),
              );
            }),
          ),
        ),
      );
    }
    return h("dl", { class: "meta", "data-testid": "metadata" }, rows);
  }

  /** The dominant colours with their shares (palette), or without (photos processed before). */
  function paletteOf(metadata) {
    const isColour = (c) => /^#[0-9a-f]{6}$/i.test(String(c));
    if (Array.isArray(metadata.palette)) {
      return metadata.palette
        .filter((entry) => entry && isColour(entry.colour))
        .map((entry) => ({ colour: String(entry.colour), share: isNumber(entry.share) ? entry.share : null }));
    }
    const colours = Array.isArray(metadata.dominantColours) ? metadata.dominantColours : [];
    return colours.filter(isColour).map((colour) => ({ colour: String(colour), share: null }));
  }

  /** 0.853 as "85%"; a share under half a percent as "<1%". */
  function formatShare(share) {
    const percent = Math.round(share * 100);
    return percent < 1 ? "<1%" : `${percent}%`;
  }

  function filterList(photo, name) {
    const filters = (Array.isArray(photo.filters) ? photo.filters : []).filter((f) => safeUrl(f.url));
    if (filters.length === 0) return null;
    return h(
      "div",
      { class: "filters" },
      h("h4", { class: "subheading" }, "Filtered versions"),
      h(
        "ul",
        { class: "filters__list" },
        filters.map((filter) =>
          h(
            "li",
            {},
            h(
              "a",
              { class: "filters__link", href: safeUrl(filter.url), target: "_blank", rel: "noopener noreferrer" },
              h("img", {
                src: safeUrl(filter.url),
                alt: `${name} with ${filter.name} filter`,
                width: filter.width,
                height: filter.height,
                "data-testid": "filter-image",
                "data-filter": filter.name,
              }),
              h("span", { class: "filters__name", "aria-hidden": "true" }, String(filter.name)),
              newTabHint(),
            ),
          ),
        ),
      ),
    );
  }

  function completedView(photo) {
    const name = photo.filename || "photo";
    const picked = pickThumbnails(photo);
    const preview = picked
      ? h(
          "figure",
          { class: "preview" },
          h(
            "div",
            { class: "preview__stage" },
            pictureWithPlaceholder(
              photo,
              picked.small,
              {
                alt: `Thumbnail of ${name}, ${edgeLabel(picked.small)}`,
                width: picked.small.width,
                height: picked.small.height,
                "data-testid": "thumbnail",
              },
              "preview__picture",
            ),
          ),
          h(
            "figcaption",
            {},
            h(
              "a",
              { href: safeUrl(picked.large.url), target: "_blank", rel: "noopener noreferrer", "data-testid": "full-size-link" },
              `Full size (${picked.large.width} × ${picked.large.height} px)`,
              newTabHint(),
            ),
          ),
        )
      : null;
    return h(
      "div",
      { class: "results", "data-testid": "photo-results" },
      preview,
      h("h4", { class: "subheading" }, "Details"),
      metadataList(photo),
      filterList(photo, name),
    );
  }

  /** Why a photo failed: its message as a disclosure's summary (a keyboard stop that reads
   * out the reason), the error's name inside. */
  function reasonView(name, message, { open, about = null }) {
    return h(
      "details",
      { class: "reason", open, "data-testid": "failure-reason" },
      h(
        "summary",
        { class: "reason__message" },
        about ? h("span", { class: "visually-hidden" }, `${about} failed: `) : null,
        message || "No reason was given.",
      ),
      h("p", { class: "reason__name" }, "Error: ", h("code", {}, name || "Unknown")),
    );
  }

  function errorView(name, message) {
    return h("div", { class: "alert", role: "alert", "data-testid": "photo-error" }, reasonView(name, message, { open: true }));
  }

  // ------------------------------------------------------------------ upload cards

  let cardCount = 0;

  class UploadCard {
    constructor(file) {
      this.file = file;
      this.status = null;
      this.photoId = null;
      cardCount += 1;
      const titleId = `card-title-${cardCount}`;
      this.title = h("h3", { class: "card__title", id: titleId }, file.name);
      this.badge = h("span", { class: "badge", "data-testid": "photo-status" });
      this.statusText = h("p", { class: "card__status", "data-testid": "status-text" });
      this.progress = h("progress", {
        max: "100",
        value: "0",
        "aria-label": `Upload of ${file.name}`,
        "data-testid": "upload-progress",
      });
      this.progressLabel = h("span", { class: "progress__value", "aria-hidden": "true" }, "0%");
      this.progressRow = h("div", { class: "progress" }, this.progress, this.progressLabel);
      this.body = h("div", { class: "card__body" });
      this.root = h(
        "li",
        { class: "card", "data-testid": "photo-card", "data-filename": file.name },
        h(
          "article",
          { "aria-labelledby": titleId },
          h(
            "header",
            { class: "card__header" },
            h(
              "div",
              { class: "card__heading" },
              this.title,
              h("p", { class: "card__sub" }, [formatBytes(file.size), contentTypeOf(file)].join(" · ")),
            ),
            this.badge,
          ),
          this.progressRow,
          this.statusText,
          this.body,
        ),
      );
      this.setStatus("QUEUED", { quiet: true });
    }

    setStatus(status, { text, quiet = false } = {}) {
      const known = STATUS[status] || { badge: status, text: status };
      const changed = status !== this.status;
      this.status = status;
      this.root.dataset.status = status;
      this.badge.dataset.status = status;
      this.badge.textContent = known.badge;
      this.statusText.textContent = text ?? known.text;
      if (changed && !quiet) announce(`${this.file.name}: ${known.badge.toLowerCase()}`);
    }

    setProgress(fraction) {
      const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
      this.progress.value = percent;
      this.progressLabel.textContent = `${percent}%`;
    }

    setPhotoId(photoId) {
      this.photoId = photoId;
      this.root.dataset.photoId = photoId;
    }

    reject(name, message) {
      this.progressRow.hidden = true;
      this.setStatus("REJECTED");
      this.body.replaceChildren(errorView(name, message));
    }

    /** A photo as GET /photos/{id} shows it. */
    show(photo) {
      const status = String(photo.status || "");
      if (status === this.status) return;
      if (TERMINAL.has(status)) this.progressRow.hidden = true;
      this.setStatus(status, { text: status === "COMPLETED" ? processingTime(photo) : undefined });
      if (status === "COMPLETED") this.body.replaceChildren(completedView(photo));
      if (status === "FAILED") {
        const error = photo.error || {};
        this.body.replaceChildren(errorView(error.name, error.message));
      }
    }

    stalled(resume) {
      this.statusText.textContent = "Still processing, refresh later.";
      announce(`${this.file.name}: still processing, refresh later`);
      const again = h("button", { type: "button", class: "button button--ghost", "data-testid": "check-again" }, "Check again");
      again.addEventListener("click", () => {
        again.remove();
        resume();
      });
      this.body.replaceChildren(again);
    }
  }

  // ------------------------------------------------------------------ uploading

  const uploadSlot = pool(Math.max(1, Number(config.parallelUploads) || 1));

  /** Why a file should not be uploaded, or null. */
  function problemWith(file) {
    const type = file.type || "";
    // Either will do: some systems type HEIC files as application/octet-stream.
    const looksLikeImage = type.startsWith("image/") || extensionOf(file.name) in TYPE_BY_EXTENSION;
    if (!looksLikeImage) {
      return {
        name: "NotAnImage",
        message: `${file.name} is not an image${type ? ` (${type})` : ""}. Choose a JPEG, PNG, WebP, GIF, TIFF or HEIC photo.`,
      };
    }
    if (file.size === 0) return { name: "EmptyPhoto", message: `${file.name} is empty.` };
    if (file.size > config.maxBytes) {
      return {
        name: "PhotoTooLarge",
        message: `${file.name} is too large (${formatBytes(file.size)}, limit ${formatBytes(config.maxBytes)}).`,
      };
    }
    return null;
  }

  async function upload(file, card) {
    card.setStatus("UPLOADING");
    const onProgress = (fraction) => card.setProgress(fraction);
    let accepted;
    try {
      accepted =
        file.size > config.directUploadMaxBytes
          ? await uploadPresigned(file, onProgress)
          : await uploadDirect(file, onProgress);
    } catch (error) {
      const known = error instanceof ApiError;
      card.reject(known ? error.name : "UploadFailed", known ? error.message : "The upload failed.");
      return;
    }
    card.setProgress(1);
    card.setPhotoId(accepted.photoId);
    card.show({ status: accepted.status || "ACCEPTED" });
    follow(card);
  }

  /** Poll the photo with back-off until it finishes, for at most pollTimeoutMs. */
  async function follow(card) {
    const started = Date.now();
    let delay = config.pollFirstDelayMs;
    while (Date.now() - started < config.pollTimeoutMs) {
      await wait(delay);
      delay = Math.min(delay * 1.6, config.pollMaxDelayMs);
      let photo;
      try {
        photo = await apiRequest(`/photos/${encodeURIComponent(card.photoId)}`);
      } catch (error) {
        // A dropped connection or a 5xx may pass; a 4xx will not.
        if (error.status >= 400 && error.status < 500) {
          card.progressRow.hidden = true;
          card.setStatus("FAILED", { text: "Could not read the photo's status" });
          card.body.replaceChildren(errorView(error.name, error.message));
          return;
        }
        continue;
      }
      card.show(photo);
      if (TERMINAL.has(photo.status)) gallery.refreshSoon();
      if (TERMINAL.has(photo.status)) return;
    }
    card.stalled(() => follow(card));
  }

  function handleFiles(fileList) {
    const files = Array.from(fileList || []);
    if (files.length === 0) return;
    elements.uploadsEmpty.hidden = true;
    for (const file of files) {
      const card = new UploadCard(file);
      elements.uploadList.append(card.root);
      const problem = problemWith(file);
      if (problem) {
        card.reject(problem.name, problem.message);
        continue;
      }
      uploadSlot(() => upload(file, card));
    }
  }

  // ------------------------------------------------------------------ recent photos

  /** What a tile shows changes only with these: a tile of the same version is reused. */
  function tileVersion(photo) {
    return [photo.photoId, photo.status, photo.updatedAt || photo.createdAt || ""].join("|");
  }

  /** The focused control inside the gallery, as the tile and the control's place in it. */
  function focusInGallery() {
    const element = document.activeElement;
    const tile = element && element !== elements.gallery && element.closest('[data-testid="gallery-item"]');
    if (!tile || !elements.gallery.contains(tile)) return null;
    const controls = Array.from(tile.querySelectorAll("a[href], button, summary"));
    return { element, photoId: tile.dataset.photoId, index: controls.indexOf(element) };
  }

  /** Focus where it was: the same node if kept, else the same control of the new tile. */
  function restoreFocus(focused) {
    if (!focused || document.activeElement === focused.element) return;
    if (focused.element.isConnected) {
      focused.element.focus({ preventScroll: true });
      return;
    }
    const tile = Array.from(elements.gallery.children).find((t) => t.dataset.photoId === focused.photoId);
    const controls = tile ? Array.from(tile.querySelectorAll("a[href], button, summary")) : [];
    (controls[focused.index] || controls[0] || elements.galleryHeading).focus({ preventScroll: true });
  }

  /** Names of the photos the gallery has listed, to name the original of a duplicate. */
  const listedNames = new Map();

  /** A near-duplicate says which photo it repeats, by name when the gallery has listed it. */
  function duplicateMark(originalId) {
    const original = listedNames.get(originalId);
    const text = original ? `Duplicate of ${original}` : "Duplicate of an earlier photo";
    return h(
      "span",
      { class: "tile__duplicate", title: text, "data-testid": "duplicate-mark", "data-original": originalId },
      text,
    );
  }

  function galleryItem(photo) {
    const name = photo.filename || "photo";
    const status = String(photo.status || "");
    const picked = status === "COMPLETED" ? pickThumbnails(photo) : null;
    const error = photo.error || {};
    const visual = status === "FAILED"
      ? h(
          "div",
          { class: "tile__failed", "data-status": status },
          h("span", { class: "tile__badge", "aria-hidden": "true" }, STATUS.FAILED.badge),
          reasonView(error.name, error.message, { open: false, about: name }),
        )
      : picked
      ? h(
          "a",
          { class: "tile__link", href: safeUrl(picked.large.url), target: "_blank", rel: "noopener noreferrer" },
          pictureWithPlaceholder(
            photo,
            picked.small,
            {
              alt: `Thumbnail of ${name}, ${edgeLabel(picked.small)}`,
              width: picked.small.width,
              height: picked.small.height,
              "data-testid": "gallery-image",
            },
            "tile__picture",
          ),
          h("span", { class: "visually-hidden" }, ", full size (opens in a new tab)"),
        )
      : h(
          "div",
          { class: "tile__placeholder", "data-status": status },
          (STATUS[status] || { badge: status }).badge,
        );
    return h(
      "li",
      {
        class: "tile",
        "data-testid": "gallery-item",
        "data-photo-id": photo.photoId,
        "data-status": status,
        "data-version": tileVersion(photo),
      },
      h(
        "figure",
        {},
        visual,
        h(
          "figcaption",
          {},
          h("span", { class: "tile__name", title: name }, name),
          h("span", { class: "tile__time" }, formatInstant(photo.createdAt)),
          photo.duplicateOf ? duplicateMark(photo.duplicateOf) : null,
        ),
      ),
      h(
        "button",
        {
          type: "button",
          class: "button button--ghost tile__delete",
          "data-testid": "delete-photo",
          "aria-label": `Delete ${name}`,
        },
        "Delete",
      ),
    );
  }

  /** DELETE /photos/{id}: the tile goes once the API has taken the request. */
  async function deletePhoto(tile) {
    const name = tile.querySelector(".tile__name")?.textContent || "photo";
    const button = tile.querySelector('[data-testid="delete-photo"]');
    button.setAttribute("aria-disabled", "true");
    button.textContent = "Deleting…";
    try {
      await apiRequest(`/photos/${encodeURIComponent(tile.dataset.photoId)}`, { method: "DELETE" });
    } catch (error) {
      button.removeAttribute("aria-disabled");
      button.textContent = "Delete";
      announce(`${name} was not deleted: ${error.message}`);
      return;
    }
    tile.remove();
    elements.galleryHeading.focus();
    announce(`${name} deleted`);
    if (elements.gallery.children.length === 0) {
      elements.galleryStatus.textContent = "No photos yet. Upload one above.";
    }
  }

  const gallery = {
    cursor: null,
    loading: false,
    refreshTimer: null,

    async load({ reset }) {
      if (this.loading) return;
      this.loading = true;
      elements.loadMore.setAttribute("aria-disabled", "true");
      elements.loadMore.textContent = "Loading…";
      if (reset && elements.gallery.children.length === 0) elements.galleryStatus.textContent = "Loading…";
      const query = new URLSearchParams({ limit: String(config.galleryPageSize) });
      if (!reset && this.cursor) query.set("cursor", this.cursor);
      let page;
      try {
        page = await apiRequest(`/photos?${query}`);
      } catch (error) {
        elements.galleryStatus.textContent = `Could not load recent photos: ${error.message}`;
        this.loading = false;
        this.updateMore();
        return;
      }
      const photos = Array.isArray(page.photos) ? page.photos : [];
      for (const photo of photos) listedNames.set(photo.photoId, photo.filename || "photo");
      if (reset) {
        // A refresh keeps the tiles that did not change (their images, their open
        // details) and the keyboard focus, which a replaced node would drop to <body>.
        const focused = focusInGallery();
        const shown = new Map(
          Array.from(elements.gallery.children, (tile) => [tile.dataset.version, tile]),
        );
        const items = photos.map((photo) => shown.get(tileVersion(photo)) || galleryItem(photo));
        elements.gallery.replaceChildren(...items);
        restoreFocus(focused);
        this.cursor = typeof page.nextCursor === "string" && page.nextCursor ? page.nextCursor : null;
        this.done();
        return items;
      }
      const items = photos.map(galleryItem);
      elements.gallery.append(...items);
      this.cursor = typeof page.nextCursor === "string" && page.nextCursor ? page.nextCursor : null;
      this.done();
      return items;
    },

    done() {
      elements.galleryStatus.textContent =
        elements.gallery.children.length === 0 ? "No photos yet. Upload one above." : "";
      this.loading = false;
      this.updateMore();
    },

    updateMore() {
      elements.loadMore.removeAttribute("aria-disabled");
      elements.loadMore.textContent = "Load more";
      elements.loadMore.hidden = this.cursor === null;
    },

    async more() {
      const hadFocus = document.activeElement === elements.loadMore;
      const items = await this.load({ reset: false });
      // The button disappears after the last page: keep keyboard users in place.
      if (hadFocus && elements.loadMore.hidden) {
        const link = items && items[0] && items[0].querySelector("a");
        (link || elements.galleryHeading).focus();
      }
    },

    /** Completions often come in bursts: one reload for the burst. */
    refreshSoon() {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(() => this.load({ reset: true }), 300);
    },
  };

  // ------------------------------------------------------------------ wiring

  elements.maxSize.textContent = formatBytes(config.maxBytes);

  // A native <button>: Enter and Space already click it.
  elements.dropzone.addEventListener("click", () => elements.input.click());
  elements.input.addEventListener("change", () => {
    handleFiles(elements.input.files);
    elements.input.value = ""; // choosing the same file again still fires "change"
  });

  for (const type of ["dragenter", "dragover"]) {
    elements.dropzone.addEventListener(type, (event) => {
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
      elements.dropzone.classList.add("is-dragging");
    });
  }
  elements.dropzone.addEventListener("dragleave", (event) => {
    if (!elements.dropzone.contains(event.relatedTarget)) elements.dropzone.classList.remove("is-dragging");
  });
  elements.dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    elements.dropzone.classList.remove("is-dragging");
    handleFiles(event.dataTransfer && event.dataTransfer.files);
  });
  // A photo dropped beside the zone would otherwise replace the page.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => {
      if (!elements.dropzone.contains(event.target)) event.preventDefault();
    });
  }

  elements.loadMore.addEventListener("click", () => {
    if (elements.loadMore.getAttribute("aria-disabled") !== "true") gallery.more();
  });
  elements.galleryRefresh.addEventListener("click", () => gallery.load({ reset: true }));
  elements.gallery.addEventListener("click", (event) => {
    const button = event.target.closest('[data-testid="delete-photo"]');
    if (button && button.getAttribute("aria-disabled") !== "true") {
      deletePhoto(button.closest('[data-testid="gallery-item"]'));
    }
  });

  // ------------------------------------------------------------------ who is signed in

  const session = {
    show() {
      const user = auth.enabled ? auth.user() : null;
      const signedIn = !auth.enabled || user !== null;
      elements.main.hidden = !signedIn;
      elements.signedOut.hidden = signedIn;
      elements.session.hidden = !auth.enabled;
      elements.userName.textContent = user || "";
      elements.signIn.hidden = signedIn;
      elements.signOut.hidden = !signedIn;
      return signedIn;
    },
  };
  elements.signIn.addEventListener("click", () => auth.signIn());
  elements.signInMain.addEventListener("click", () => auth.signIn());
  elements.signOut.addEventListener("click", () => auth.signOut());
  window.addEventListener("photoflow:signed-out", () => session.show());

  (auth.ready || Promise.resolve()).then(() => {
    if (session.show()) gallery.load({ reset: true });
  });
})();
