// Progressive enhancement only: a date control marked data-autosubmit submits its form
// when it changes. Without this script the form's Show button does the same.
document.addEventListener("change", (event) => {
  const control = event.target;
  if (control instanceof HTMLInputElement && control.dataset.autosubmit !== undefined && control.form) {
    control.form.requestSubmit();
  }
});
