//! The ports' contract as executable checks. Every adapter of a port runs
//! the same suite: the local adapters in this crate's tests, the AWS
//! adapters against moto's server in `crates/aws/tests`. A behaviour the
//! suite checks is part of the port's contract; one it does not check is
//! not promised.
//!
//! The checks panic on a broken promise, with what was expected and what
//! the adapter did, like any test assertion.

pub mod events;
pub mod index;
pub mod object_store;

/// Calls the macro `$each` with the name of every check in
/// [`object_store`] that takes one store, so each adapter's tests run the
/// whole suite, and a new check reaches every adapter at once:
/// `zoomvault_archive::object_store_checks!(my_test_macro);`.
#[macro_export]
macro_rules! object_store_checks {
    ($each:ident) => {
        $each!(
            put_get_head_list_delete,
            list_returns_every_key_past_one_page,
            list_prefixes_gives_one_level,
            get_stream_reads_the_whole_object,
            large_object_in_parts_with_a_part_sent_twice,
            parts_listed_out_of_order_are_refused,
            a_too_small_middle_part_is_refused,
            a_wrong_etag_is_refused,
            abort_leaves_nothing,
            list_uploads_names_the_open_uploads_to_one_key,
            a_part_with_a_mismatched_declared_checksum_is_refused,
            a_completion_with_a_mismatched_checksum_leaves_nothing,
            completing_twice_is_no_such_upload,
        );
    };
}

/// As [`object_store_checks!`], for the checks in [`index`].
#[macro_export]
macro_rules! index_checks {
    ($each:ident) => {
        $each!(
            upsert_then_get,
            upsert_keeps_a_later_ingested_entry,
            upsert_with_an_equal_ingest_time_rewrites,
            lists_newest_first_with_ties_broken_by_uuid,
            pages_visit_every_entry_once,
            lists_by_meeting,
            lists_by_host,
            started_before_is_a_strict_cut_off,
            an_invalid_limit_is_refused,
            a_forged_or_foreign_cursor_is_refused,
            invalid_entries_are_refused,
            delete_removes_one_entry,
            clear_empties_the_index,
        );
    };
}

/// As [`object_store_checks!`], for the checks in [`events`].
#[macro_export]
macro_rules! event_checks {
    ($each:ident) => {
        $each!(
            recording_archived_arrives,
            site_rebuild_requested_arrives,
            events_arrive_in_emit_order,
        );
    };
}
