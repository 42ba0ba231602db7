// PMHub page behaviour shared by every page. No inline scripts: the CSP allows only our files.
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button data-copy="#id">.
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", () => {
      const target = document.querySelector(button.dataset.copy);
      if (target && navigator.clipboard) navigator.clipboard.writeText(target.textContent.trim());
      button.textContent = "Copied";
    });
  });
  // Confirm dangerous forms: <form data-confirm="Delete this?">.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
