//! JSONata for zoomvault's ASL engine. This file only declares the modules;
//! it holds no logic of its own.

pub mod picture;
