//! Area handles: the operations grouped by the spec's tags, as the Python library groups them
//! (`client.users.get_user("me")` there, `client.users().get_user("me")` here).
//!
//! Each handle is a `Copy` view of the client returned by one of its methods (`client.users()`,
//! `client.posts()`, `client.channels()`, ...). Its methods take the operation's path parameters as
//! arguments, in the order the path names them, and return the same builder as the flat method
//! (`client.get_user()`) with them set, so a required path parameter cannot be forgotten:
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> matterapi::Result<()> {
//! let me = client.users().get_user("me").send().await?;
//! let teams = client.teams().get_teams_for_user("me").send().await?;
//! # Ok(()) }
//! ```

include!(concat!(env!("OUT_DIR"), "/areas.rs"));
