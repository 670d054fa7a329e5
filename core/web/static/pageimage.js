// A page image at a displayed size, with the search hits drawn over it as
// boxes from the page's word boxes (stored-image pixels scaled by
// displayed/stored width), and a view rotation that turns image and boxes
// together. Shared by the viewer and the review queue.
"use strict";

import { h } from "/static/dom.js";
import { apiUrl } from "/static/api.js";

/** The image width to ask the server for: the displayed width in device
 * pixels, rounded up to a step of 100 so nearby zooms share cached images. */
export function requestWidth(displayWidth) {
  const dpr = window.devicePixelRatio || 1;
  return Math.min(4000, Math.max(16, Math.ceil((displayWidth * dpr) / 100) * 100));
}

/**
 * Builds the page: returns {element, boxes} where element is sized to the
 * rotated page and boxes are the hit box elements, in reading order.
 *   page:     {id, width, height} (stored pixels)
 *   display:  width in CSS pixels of the unrotated page
 *   rotation: quarter turns clockwise (0..3)
 *   words:    the /words answer or null; matches(text): is it a hit
 */
export function pageView(page, display, rotation, words, matches, { alt } = {}) {
  const scale = display / page.width;
  const w = display;
  const hgt = page.height * scale;
  const img = h("img", {
    class: "page-image",
    src: apiUrl(`/pages/${page.id}/image`, { width: requestWidth(display) }),
    alt: alt || `Page image ${page.id}`,
    width: Math.round(w),
    height: Math.round(hgt),
    draggable: "false",
    style: { width: `${w}px`, height: `${hgt}px` },
  });
  const overlay = h("div", { class: "hit-layer", "aria-hidden": "true" });
  const boxes = [];
  if (words && words.words) {
    // words' own width, in case the OCR ran on the image as stored
    const s = display / (words.width || page.width);
    const hits = words.words
      .map((wd, index) => ({ wd, index }))
      .filter(({ wd }) => matches(wd.text));
    for (const { wd, index } of hits) {
      const box = h("div", {
        class: "hit-box",
        style: { left: `${wd.x * s}px`, top: `${wd.y * s}px`, width: `${wd.w * s}px`, height: `${wd.h * s}px` },
        dataset: { word: index, x: wd.x, y: wd.y, w: wd.w, h: wd.h, text: wd.text },
        title: wd.text,
      });
      overlay.append(box);
      boxes.push(box);
    }
  }
  const stage = h("div", { class: "page-stage", style: { width: `${w}px`, height: `${hgt}px` } }, img, overlay);
  const r = ((rotation % 4) + 4) % 4;
  const turned = r % 2 === 1;
  // turn around the top left corner, then move back into the box
  const transforms = ["none", `translate(${hgt}px, 0) rotate(90deg)`, `translate(${w}px, ${hgt}px) rotate(180deg)`,
                      `translate(0, ${w}px) rotate(270deg)`];
  stage.style.setProperty("transform", transforms[r]);
  const box = h("div", {
    class: "page-box",
    style: { width: `${turned ? hgt : w}px`, height: `${turned ? w : hgt}px` },
    dataset: { page: page.id, rotation: r * 90, scale: scale.toFixed(6) },
  }, stage);
  return { element: box, boxes, img };
}
