// Deployment settings of the PhotoFlow page; a deployment rewrites this file.
//
// apiBaseUrl: base URL of the photos API, e.g. the stack's ApiUrl output
//   ("https://abc123.execute-api.eu-west-1.amazonaws.com/dev"). Empty: the API
//   is on the same origin as this page (as on the local stack).
//
// authToken: what the page sends as "Authorization: Bearer <authToken>" when the
//   stack's ApiAuth is COGNITO (the default): an ID token of a user of the stack's
//   user pool (see ../docs/security.md#who-may-call-the-api). The value below is the
//   local stack's test identity; a deployed API refuses it. With ApiAuth AWS_IAM the
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
  { apiBaseUrl: "", authToken: "local-test-token" },
  window.PHOTOFLOW_CONFIG,
);
