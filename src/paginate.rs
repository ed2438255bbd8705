//! Pagination: paged replies as a [`Stream`] of their items.
//!
//! - [`paginate`] walks any `page`/`per_page` operation: give it a closure that sends one page, and
//!   it asks for page 0, 1, 2, ... with [`MAX_PER_PAGE`] items each (the most the server gives: it
//!   silently caps `per_page` at 200), until a page comes back short. A walk that cannot end is
//!   stopped with an error: a page that repeats the one before it item for item
//!   ([`Error::PageRepeated`]: the server ignores `page`), or more pages than
//!   [`Paginate::page_limit`] ([`Error::PageLimitReached`], [`DEFAULT_PAGE_LIMIT`] by default).
//! - [`Client::channel_posts`](crate::Client::channel_posts) walks a channel's posts with the post
//!   cursors of `GET /channels/{channel_id}/posts` (`before`, `after`, `since`) from a
//!   [`PostCursor`].
//!
//! A `page`/`per_page` walk is an offset walk: items created or deleted meanwhile shift the pages,
//! and items that tie on the server's sort key (posts sharing a `create_at` millisecond) may come
//! in a different order on the next page's query, so an item can come twice or not at all.
//!
//! Both end after an error, which is their last item, and both are [`Stream`]s that also have an
//! inherent `next()` and `try_collect()`, so that no stream library is needed.
//!
//! ```no_run
//! # async fn run(client: matterapi::Client) -> Result<(), matterapi::Error> {
//! use matterapi::paginate::{PostCursor, paginate};
//!
//! let mut users = paginate(|page, per_page| {
//!     client.get_users().page(page).per_page(per_page).send()
//! });
//! while let Some(user) = users.next().await {
//!     println!("{}", user?.username.unwrap_or_default());
//! }
//!
//! let posts = client.channel_posts("channel id", PostCursor::Newest).try_collect().await?;
//! println!("{} posts", posts.len());
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use futures_core::Stream;

use crate::error::{Error, Result};
use crate::generated::ResponseValue;

/// The most items the server gives per page, whatever `per_page` asks for.
pub const MAX_PER_PAGE: u32 = 200;

/// The default [`Paginate::page_limit`]: 10,000 pages (2,000,000 items of 200).
pub const DEFAULT_PAGE_LIMIT: u32 = 10_000;

/// A page of items: what a page's request gives back, as a list.
pub trait PageItems {
    /// The items' type.
    type Item;
    /// The items, in the server's order.
    fn into_items(self) -> Vec<Self::Item>;
}

impl<T> PageItems for Vec<T> {
    type Item = T;
    fn into_items(self) -> Vec<T> {
        self
    }
}

impl<T> PageItems for ResponseValue<Vec<T>> {
    type Item = T;
    fn into_items(self) -> Vec<T> {
        self.into_inner()
    }
}

/// The items of every page that `fetch(page, per_page)` gives, as a stream: pages 0, 1, 2, ... of
/// [`MAX_PER_PAGE`] items (see [`Paginate::per_page`]), until a page has fewer items than asked
/// for, or an error (the stream's last item), or [`Paginate::max_pages`] pages.
///
/// The walk ends with an error, after the items of the pages before, when a page holds the same
/// items as the page before it ([`Error::PageRepeated`]: a server that ignores `page` would
/// otherwise be walked forever), or when [`Paginate::page_limit`] pages were fetched and the last
/// was full ([`Error::PageLimitReached`]). Items are compared for that, hence `T: PartialEq +
/// Clone` to walk (the generated types are both); the last page is kept until the next arrives.
///
/// `fetch` is typically a generated operation's `send()`:
/// `paginate(|page, per_page| client.get_users().page(page).per_page(per_page).send())`.
pub fn paginate<F, Fut, R, E>(fetch: F) -> Paginate<F, Fut, R::Item>
where
    F: FnMut(u32, u32) -> Fut,
    Fut: Future<Output = std::result::Result<R, E>>,
    R: PageItems,
    E: Into<Error>,
{
    Paginate {
        pages: Pages {
            fetch,
            per_page: MAX_PER_PAGE,
            next_page: 0,
            page_limit: DEFAULT_PAGE_LIMIT,
            previous: None,
        },
        core: Core::new(),
    }
}

/// The state machine both walks share ([`Paginate`] and [`ChannelPosts`]): the items of the last
/// page not yet given out, the request in flight, the pages fetched and the end. What a page's
/// request is and what its reply means is the [`Walker`]'s.
struct Core<T, P> {
    max_pages: Option<u32>,
    fetched: u32,
    buffered: VecDeque<T>,
    in_flight: Option<P>,
    done: bool,
}

/// One kind of walk: how the next page is asked for and what its reply gives.
trait Walker<T> {
    /// A page's request in flight.
    type Request: Future + Unpin;
    /// The next page's request after `fetched` pages, or the end of the walk: `Err(Some(e))` ends
    /// it with `e` as its last item, `Err(None)` quietly.
    fn start(&mut self, fetched: u32) -> std::result::Result<Self::Request, Option<Error>>;
    /// A page's reply: its items to give out and whether another page follows, or the error that
    /// ends the walk.
    fn take(&mut self, reply: <Self::Request as Future>::Output) -> Result<(Vec<T>, bool)>;
}

impl<T, P> Core<T, P> {
    fn new() -> Self {
        Core {
            max_pages: None,
            fetched: 0,
            buffered: VecDeque::new(),
            in_flight: None,
            done: false,
        }
    }

    fn poll_next<W>(&mut self, walker: &mut W, cx: &mut Context<'_>) -> Poll<Option<Result<T>>>
    where
        W: Walker<T, Request = P>,
        P: Future + Unpin,
    {
        loop {
            if let Some(item) = self.buffered.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            let request = match &mut self.in_flight {
                Some(request) => request,
                None => {
                    if self.max_pages.is_some_and(|max| self.fetched >= max) {
                        self.done = true;
                        continue;
                    }
                    match walker.start(self.fetched) {
                        Ok(request) => self.in_flight.insert(request),
                        Err(end) => {
                            self.done = true;
                            match end {
                                Some(e) => return Poll::Ready(Some(Err(e))),
                                None => continue,
                            }
                        }
                    }
                }
            };
            let reply = match Pin::new(request).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(reply) => reply,
            };
            self.in_flight = None;
            self.fetched = self.fetched.saturating_add(1);
            match walker.take(reply) {
                Err(e) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Ok((items, more)) => {
                    self.done = !more;
                    self.buffered.extend(items);
                }
            }
        }
    }
}

/// The next item of `stream`: the inherent `next()` of both walks.
async fn next_of<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// Every item of `stream`, or its first error: the inherent `try_collect()` of both walks.
async fn collect_of<S, T>(mut stream: S) -> Result<Vec<T>>
where
    S: Stream<Item = Result<T>> + Unpin,
{
    let mut all = Vec::new();
    while let Some(item) = next_of(&mut stream).await {
        all.push(item?);
    }
    Ok(all)
}

/// The `page`/`per_page` walker of [`Paginate`].
struct Pages<F, T> {
    fetch: F,
    per_page: u32,
    next_page: u32,
    page_limit: u32,
    /// The last full page's items, to see the next one repeat it.
    previous: Option<Vec<T>>,
}

impl<F, Fut, T, R, E> Walker<T> for Pages<F, T>
where
    F: FnMut(u32, u32) -> Fut,
    Fut: Future<Output = std::result::Result<R, E>>,
    R: PageItems<Item = T>,
    E: Into<Error>,
    T: PartialEq + Clone,
{
    type Request = Pin<Box<Fut>>;

    fn start(&mut self, fetched: u32) -> std::result::Result<Self::Request, Option<Error>> {
        if fetched >= self.page_limit {
            return Err(Some(Error::PageLimitReached {
                limit: self.page_limit,
            }));
        }
        Ok(Box::pin((self.fetch)(self.next_page, self.per_page)))
    }

    fn take(&mut self, reply: std::result::Result<R, E>) -> Result<(Vec<T>, bool)> {
        let items = reply.map_err(Into::into)?.into_items();
        if !items.is_empty() && self.previous.as_ref() == Some(&items) {
            self.previous = None;
            return Err(Error::PageRepeated {
                page: self.next_page,
            });
        }
        let more = match self.next_page.checked_add(1) {
            Some(next) if items.len() >= self.per_page as usize => {
                self.next_page = next;
                self.previous = Some(items.clone());
                true
            }
            _ => {
                self.previous = None;
                false
            }
        };
        Ok((items, more))
    }
}

/// The stream [`paginate`] makes.
#[must_use = "a stream does nothing until polled"]
pub struct Paginate<F, Fut, T> {
    pages: Pages<F, T>,
    core: Core<T, Pin<Box<Fut>>>,
}

// The future is boxed and the items are never pinned: only the closure must be `Unpin`.
impl<F: Unpin, Fut, T> Unpin for Paginate<F, Fut, T> {}

impl<F, Fut, T> std::fmt::Debug for Paginate<F, Fut, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginate")
            .field("per_page", &self.pages.per_page)
            .field("next_page", &self.pages.next_page)
            .field("max_pages", &self.core.max_pages)
            .field("page_limit", &self.pages.page_limit)
            .field("fetched", &self.core.fetched)
            .field("buffered", &self.core.buffered.len())
            .field("done", &self.core.done)
            .finish_non_exhaustive()
    }
}

impl<F, Fut, T> Paginate<F, Fut, T> {
    /// Items per page, 1 to [`MAX_PER_PAGE`] (values outside are brought inside: a larger one
    /// would be capped by the server, and its full pages taken for the last).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.pages.per_page = per_page.clamp(1, MAX_PER_PAGE);
        self
    }

    /// Starts at page `page` instead of 0.
    pub fn start_page(mut self, page: u32) -> Self {
        self.pages.next_page = page;
        self
    }

    /// Fetches at most `pages` pages, then ends (without an error): a walk of the first pages. To
    /// bound a walk meant to be complete, see [`Paginate::page_limit`].
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.core.max_pages = Some(pages);
        self
    }

    /// Pages fetched so far.
    pub fn pages_fetched(&self) -> u32 {
        self.core.fetched
    }

    /// The most pages the walk fetches (default [`DEFAULT_PAGE_LIMIT`]): when that many were
    /// fetched and the last was full, the walk ends with [`Error::PageLimitReached`] instead of
    /// asking for more. At least 1.
    pub fn page_limit(mut self, pages: u32) -> Self {
        self.pages.page_limit = pages.max(1);
        self
    }
}

impl<F, Fut, T, R, E> Paginate<F, Fut, T>
where
    F: FnMut(u32, u32) -> Fut + Unpin,
    Fut: Future<Output = std::result::Result<R, E>>,
    R: PageItems<Item = T>,
    E: Into<Error>,
    T: PartialEq + Clone,
{
    /// The next item, `None` at the end.
    pub async fn next(&mut self) -> Option<Result<T>> {
        next_of(self).await
    }

    /// Every item, or the first error.
    pub async fn try_collect(self) -> Result<Vec<T>> {
        collect_of(self).await
    }
}

impl<F, Fut, T, R, E> Stream for Paginate<F, Fut, T>
where
    F: FnMut(u32, u32) -> Fut + Unpin,
    Fut: Future<Output = std::result::Result<R, E>>,
    R: PageItems<Item = T>,
    E: Into<Error>,
    T: PartialEq + Clone,
{
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T>>> {
        let this = self.get_mut();
        this.core.poll_next(&mut this.pages, cx)
    }
}

#[cfg(feature = "posts")]
pub use posts::{ChannelPosts, PostCursor};

#[cfg(feature = "posts")]
mod posts {
    use std::collections::HashSet;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures_core::Stream;

    use super::{Core, MAX_PER_PAGE, Walker, collect_of, next_of};
    use crate::error::{Error, Result};
    use crate::generated::Client;
    use crate::types::{Post, PostList};

    /// The most posts `since` gives in one reply.
    const SINCE_LIMIT: usize = 1000;

    /// Where a walk over a channel's posts starts, and which way it goes.
    #[derive(Clone, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum PostCursor {
        /// From the newest post back to the oldest: newest first.
        Newest,
        /// Back from the post with this id (not included) to the oldest: newest first.
        Before(String),
        /// Forward from the post with this id (not included) to the newest: oldest first.
        After(String),
        /// The posts created, edited or deleted after this time (milliseconds since the Unix
        /// epoch), in the order of their last change. The server gives at most 1000 changes per
        /// reply, picked in no particular order: when a reply is that full the walk goes on from
        /// its latest change, and can miss older changes the server left out.
        Since(i64),
    }

    #[derive(Debug)]
    enum Walk {
        /// `before` the anchor (none: the newest page).
        Back(Option<String>),
        /// `after` the anchor.
        Forward(String),
        /// `since` the time.
        Since(i64),
    }

    type PageFuture<'a> = Pin<Box<dyn Future<Output = Result<PostList>> + Send + 'a>>;

    /// The stream [`Client::channel_posts`] makes.
    #[must_use = "a stream does nothing until polled"]
    pub struct ChannelPosts<'a> {
        posts: Posts<'a>,
        core: Core<Post, PageFuture<'a>>,
    }

    /// The post-cursor walker of [`ChannelPosts`].
    struct Posts<'a> {
        client: &'a Client,
        channel_id: String,
        walk: Walk,
        per_page: u32,
        /// Posts given already whose time is that of the last page's edge: the next page starts
        /// at that time again (posts made in the same millisecond are not lost) and skips these.
        edge: HashSet<String>,
    }

    impl std::fmt::Debug for ChannelPosts<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("ChannelPosts")
                .field("channel_id", &self.posts.channel_id)
                .field("walk", &self.posts.walk)
                .field("per_page", &self.posts.per_page)
                .field("max_pages", &self.core.max_pages)
                .field("fetched", &self.core.fetched)
                .field("buffered", &self.core.buffered.len())
                .field("done", &self.core.done)
                .finish_non_exhaustive()
        }
    }

    impl Client {
        /// The posts of `channel_id` as a stream, walked from `from` with the post cursors of
        /// `GET /api/v4/channels/{channel_id}/posts` ([`MAX_PER_PAGE`] posts per request). Replies
        /// to threads are posts of the channel too; deleted posts are left out.
        ///
        /// The server's cursors compare creation times strictly, so a plain walk from a page's last
        /// post would lose the posts made in the same millisecond; this walk starts each request a
        /// little earlier and skips what it gave already. Only more posts in one millisecond than a
        /// page holds can still be missed.
        pub fn channel_posts(
            &self,
            channel_id: impl Into<String>,
            from: PostCursor,
        ) -> ChannelPosts<'_> {
            let walk = match from {
                PostCursor::Newest => Walk::Back(None),
                PostCursor::Before(id) => Walk::Back(Some(id)),
                PostCursor::After(id) => Walk::Forward(id),
                PostCursor::Since(t) => Walk::Since(t),
            };
            ChannelPosts {
                posts: Posts {
                    client: self,
                    channel_id: channel_id.into(),
                    walk,
                    per_page: MAX_PER_PAGE,
                    edge: HashSet::new(),
                },
                core: Core::new(),
            }
        }
    }

    impl<'a> ChannelPosts<'a> {
        /// Posts per request, 1 to [`MAX_PER_PAGE`] (ignored by `since`, which has no pages).
        pub fn per_page(mut self, per_page: u32) -> Self {
            self.posts.per_page = per_page.clamp(1, MAX_PER_PAGE);
            self
        }

        /// Makes at most `pages` requests, then ends (without an error).
        pub fn max_pages(mut self, pages: u32) -> Self {
            self.core.max_pages = Some(pages);
            self
        }

        /// Requests made so far.
        pub fn pages_fetched(&self) -> u32 {
            self.core.fetched
        }

        /// The next post, `None` at the end.
        pub async fn next(&mut self) -> Option<Result<Post>> {
            next_of(self).await
        }

        /// Every post, or the first error.
        pub async fn try_collect(self) -> Result<Vec<Post>> {
            collect_of(self).await
        }
    }

    impl<'a> Posts<'a> {
        fn request(&self) -> PageFuture<'a> {
            let b = self
                .client
                .get_posts_for_channel()
                .channel_id(self.channel_id.clone());
            let b = match &self.walk {
                Walk::Back(None) => b.per_page(self.per_page),
                Walk::Back(Some(anchor)) => b.before(anchor.clone()).per_page(self.per_page),
                Walk::Forward(anchor) => b.after(anchor.clone()).per_page(self.per_page),
                Walk::Since(t) => b.since(*t),
            };
            Box::pin(async move { Ok(b.send().await?.into_inner()) })
        }

        /// Takes a page's new posts into the buffer, in walk order, and moves the cursor on (or
        /// ends the walk).
        fn take_list(&mut self, list: PostList) -> (Vec<Post>, bool) {
            let PostList {
                order,
                mut posts,
                prev_post_id,
                next_post_id,
                ..
            } = list;
            let order = order.unwrap_or_default();
            let got = order.len();
            let mut page: Vec<Post> = order
                .iter()
                .filter_map(|id| posts.as_mut().and_then(|p| p.remove(id)))
                .collect();
            let (time, more): (fn(&Post) -> i64, bool) = match &self.walk {
                Walk::Back(_) => {
                    // Newest first; `prev_post_id` is empty when no older post is left.
                    page.sort_by_key(|p| std::cmp::Reverse(p.create_at.unwrap_or(0)));
                    (
                        |p| p.create_at.unwrap_or(0),
                        prev_post_id.is_some_and(|p| !p.is_empty()),
                    )
                }
                Walk::Forward(_) => {
                    // Oldest first; `next_post_id` is empty when no newer post is left.
                    page.sort_by_key(|p| p.create_at.unwrap_or(0));
                    (
                        |p| p.create_at.unwrap_or(0),
                        next_post_id.is_some_and(|p| !p.is_empty()),
                    )
                }
                Walk::Since(_) => {
                    page.sort_by_key(|p| p.update_at.unwrap_or(0));
                    (|p| p.update_at.unwrap_or(0), got >= SINCE_LIMIT)
                }
            };
            // The page's edge: the time of its last post in walk order. The next request starts
            // at the page's last post of another time, so that the posts sharing the edge's time
            // come again (and are skipped as given) instead of being lost to the server's strict
            // `<` and `>`.
            let times: Vec<(i64, Option<String>)> =
                page.iter().map(|p| (time(p), p.id.clone())).collect();
            let fresh: Vec<Post> = page
                .into_iter()
                .filter(|p| !p.id.as_ref().is_some_and(|id| self.edge.contains(id)))
                .collect();
            let cursor = match times.last() {
                Some((edge_time, last_id)) if !fresh.is_empty() => {
                    let edge_time = *edge_time;
                    self.edge = times
                        .iter()
                        .filter(|(t, _)| *t == edge_time)
                        .filter_map(|(_, id)| id.clone())
                        .collect();
                    // Only when the whole page shares one time (more posts in one millisecond than
                    // a page holds) does the walk go on from its last post, skipping the rest.
                    let anchor = times
                        .iter()
                        .rev()
                        .find(|(t, _)| *t != edge_time)
                        .map_or(last_id, |(_, id)| id)
                        .clone();
                    match self.walk {
                        Walk::Since(_) => Some(Walk::Since(edge_time.saturating_sub(1))),
                        Walk::Back(_) => anchor.map(|id| Walk::Back(Some(id))),
                        Walk::Forward(_) => anchor.map(Walk::Forward),
                    }
                }
                // Nothing new: the page would repeat itself.
                _ => None,
            };
            let more = match cursor {
                Some(walk) if more => {
                    self.walk = walk;
                    true
                }
                _ => false,
            };
            (fresh, more)
        }
    }

    impl<'a> Walker<Post> for Posts<'a> {
        type Request = PageFuture<'a>;

        fn start(&mut self, _fetched: u32) -> std::result::Result<PageFuture<'a>, Option<Error>> {
            Ok(self.request())
        }

        fn take(&mut self, reply: Result<PostList>) -> Result<(Vec<Post>, bool)> {
            Ok(self.take_list(reply?))
        }
    }

    impl Stream for ChannelPosts<'_> {
        type Item = Result<Post>;

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Post>>> {
            let this = self.get_mut();
            this.core.poll_next(&mut this.posts, cx)
        }
    }
}
