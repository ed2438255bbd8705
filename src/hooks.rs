//! The seam between the generated client and the request path: progenitor's `ClientHooks` for
//! the generated [`Client`], calling into [`crate::request`] (which adds the bearer token, retries,
//! traces, limits and buffers replies).

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

use crate::client::Inner;
use crate::generated::Client;

impl ClientHooks<Inner> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        crate::request::apply_basepath(self.inner(), request);
        // A login carries credentials, never the previous session's token.
        if info.operation_id != "users_login" {
            crate::request::authorize(self.inner(), request);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        // Boxed: the retry loop (a request kept for the next try, a timer) would otherwise grow
        // every generated operation's future, and a caller's future holding many of them.
        Box::pin(crate::request::send_with_retries(
            self,
            info.operation_id,
            request,
            |request| crate::request::exec_once(self, request, info),
        ))
        .await
    }
}
