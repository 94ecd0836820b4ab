//! Every archived recording, read back: the index's entries, newest
//! first, each with its document from the object store (the truth the
//! index summarises). The site builders, embedded and on AWS, read the
//! archive this way.

use crate::document::RecordingDocument;
use crate::ports::{index, object_store, ListQuery, ObjectStore, RecordingIndex};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Index(#[from] index::Error),
    #[error(transparent)]
    Store(#[from] object_store::Error),
    #[error("{key}: {reason}")]
    Document { key: String, reason: String },
}

/// The documents of every indexed recording, newest first.
pub async fn archived_documents(
    index: &dyn RecordingIndex,
    store: &dyn ObjectStore,
) -> Result<Vec<RecordingDocument>, Error> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = index
            .list(ListQuery {
                limit: 1000,
                after,
                ..ListQuery::default()
            })
            .await?;
        for entry in &page.entries {
            let bytes = store.get(&entry.document_key).await?;
            let document = RecordingDocument::from_json(&bytes).map_err(|e| Error::Document {
                key: entry.document_key.clone(),
                reason: e.to_string(),
            })?;
            out.push(document);
        }
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    Ok(out)
}
