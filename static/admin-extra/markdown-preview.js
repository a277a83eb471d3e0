/* Live Markdown preview for the admin (therapyinfo/admin_forms.py MarkdownPreview).
   The server renders and sanitises the text exactly as the public page does; this
   only sends the text and shows the answer. Without JavaScript the preview shows
   the saved text. Event delegation covers inline rows added after page load. */
"use strict";
(function () {
  const DELAY_MS = 300;
  const timers = new WeakMap();
  const latest = new WeakMap();

  function csrfToken(textarea) {
    const scope = textarea.form || document;
    const input = scope.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  async function refresh(textarea) {
    const preview = textarea.closest(".md-editor")?.querySelector(".md-preview");
    if (!preview) return;
    const status = preview.querySelector(".md-preview__status");
    const body = preview.querySelector(".md-preview__body");
    const removedNote = preview.querySelector(".md-preview__removed");
    const removedList = preview.querySelector(".md-preview__removed-list");
    const request = (latest.get(textarea) || 0) + 1;
    latest.set(textarea, request);
    status.textContent = "(updating…)";
    const data = new FormData();
    data.append("text", textarea.value);
    data.append("csrfmiddlewaretoken", csrfToken(textarea));
    try {
      const response = await fetch(textarea.dataset.previewUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(textarea) },
      });
      if (!response.ok) throw new Error(String(response.status));
      const result = await response.json();
      if (latest.get(textarea) !== request) return; // a newer request is on its way
      body.innerHTML = result.html; // sanitised on the server by nh3
      removedList.textContent = result.removed.join(", ");
      removedNote.hidden = result.removed.length === 0;
      status.textContent = "(not saved yet)";
    } catch (error) {
      if (latest.get(textarea) === request) {
        status.textContent = "(preview unavailable: " + error.message + ")";
      }
    }
  }

  document.addEventListener("input", function (event) {
    const textarea = event.target;
    if (!(textarea instanceof HTMLTextAreaElement) || !textarea.dataset.previewUrl) return;
    clearTimeout(timers.get(textarea));
    timers.set(textarea, setTimeout(function () { refresh(textarea); }, DELAY_MS));
  });
})();
