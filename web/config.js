// Deployment settings of the PhotoFlow page; a deployment rewrites this file.
//
// apiBaseUrl: base URL of the photos API, e.g. the stack's ApiUrl output
//   ("https://abc123.execute-api.eu-west-1.amazonaws.com/dev"). Empty: the API
//   is on the same origin as this page (as on the local stack).
//
// auth: how people sign in when the stack's ApiAuth is COGNITO (the default), with
//   Cognito managed login (the authorization code flow with PKCE, see auth.js and
//   ../docs/security.md#who-may-call-the-api):
//     domain       the login's base URL, the stack's AuthDomainUrl output
//     clientId     the app client, the stack's UserPoolClientId output
//     redirectUri  where the login returns after signing in: this page's URL
//     logoutUri    where it returns after signing out: this page's URL
//   `photoflow publish-page` writes it from the stack; the local stack serves its own
//   config.js with its local login. No token is ever written here: the page gets one
//   by signing in, and keeps it in the tab's session storage. With ApiAuth AWS_IAM the
//   page cannot call the API at all (a browser cannot sign requests).
//
// Optional, when the stack's parameters differ from the template defaults:
//   maxBytes              the MaxPhotoBytes parameter (largest photo)
//   directUploadMaxBytes  the DirectUploadMaxBytes parameter (larger files go
//                         through a presigned upload)
//   galleryPageSize       photos per page of "Recent photos"
//
// Values set before this file loads win, so a host page (or a test) can set
// window.PHOTOFLOW_CONFIG first.
window.PHOTOFLOW_CONFIG = Object.assign(
  { apiBaseUrl: "" },
  window.PHOTOFLOW_CONFIG,
);
