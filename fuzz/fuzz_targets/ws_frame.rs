//! Websocket frame decoding: any text frame is an event, a reply, or a `WsError::BadFrame` that
//! keeps the frame; never a panic. Whatever decodes, its accessors, `Display` and `Debug` do not
//! panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use matterapi::ws::{Frame, WsError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Frame::parse(text) {
        Ok(Frame::Event(ev)) => {
            assert_eq!(ev.raw(), text, "the event keeps the frame");
            let _ = ev.event_type();
            let _ = ev.channel_id();
            let _ = ev.data();
            let _ = format!("{ev:?}");
        }
        Ok(Frame::Reply(reply)) => {
            let _ = reply.is_ok();
            let _ = reply.is_not_authenticated();
            let _ = format!("{reply:?}");
        }
        Ok(other) => {
            let _ = format!("{other:?}");
        }
        Err(err) => {
            let e = err.as_websocket().expect("a websocket error");
            assert!(
                matches!(e, WsError::BadFrame { .. }),
                "not a bad frame: {e:?}"
            );
            assert_eq!(e.raw_frame(), Some(data), "the bad frame is kept");
            assert!(!e.is_terminal());
            let _ = e.to_string();
            let _ = format!("{e:?}");
        }
    }
});
