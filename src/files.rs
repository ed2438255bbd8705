//! File operations the spec pipeline cannot generate (multipart uploads) and downloads as streams.
