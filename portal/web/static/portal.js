// Progressive enhancement only: every page works without this file.
// A "Copy" button beside each read-only pull reference.
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-copy]")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + input.value);
    button.addEventListener("click", async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Press Ctrl+C";
      }
    });
    input.after(button);
  }
  // Forms that delete or replace something ask first.
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
