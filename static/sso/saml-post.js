// SAML: post the identity provider's answer on to PMHub from PMHub's own page (sso/saml_views.py).
(function () {
  var form = document.querySelector("form[data-saml-autopost]");
  if (form) { form.submit(); }
})();
