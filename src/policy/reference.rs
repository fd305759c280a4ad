#![doc = include_str!("reference.md")]
