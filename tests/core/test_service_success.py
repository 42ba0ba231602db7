"""Every write service has a test of its successful effect, not only of its refusals.

The write services are introspected: every public function defined in an app's `services.py`.
Each one is either a read/helper (READS, with what it does) or names the test that runs its
success path and checks its effect (SUCCESS_TESTS). A new service in neither list fails here;
so does a mapping to a test that no longer exists. The check is static (it reads the test files),
so it gives the same answer in a subset run and under pytest-xdist.

To add a service: write the test of its effect (rows, version, activity, notifications, webhooks)
and name it below.
"""

import ast
import importlib
import inspect
from functools import cache
from pathlib import Path

from django.conf import settings

# An app may keep a feature's services in a sub-package (integrations.jira.services).
APPS = ["pmhub", *settings.DOMAIN_APPS, "integrations.jira"]

READS = {
    "pmhub.invitation_by_key": "looks an invitation up by its raw key",
    "pmhub.activity_build": "builds the unsaved activity line activity_record writes (pmhub/sqlbatch.py)",
    "roadmaps.initiative_state": "the JSON shape of an initiative (webhooks, 409 answers)",
    "roadmaps.labels_text": "normalises labels to the stored text",
    "roadmaps.quarter_dates": "pure: a quarter's first and last day",
    "roadmaps.share_link_resolve": "looks a share link up by its raw token",
    "roadmaps.share_filters_clean": "checks a share link's filters (writes nothing)",
    "roadmaps.snapshot_payload": "reads the roadmap into a snapshot's JSON",
    "backlog.explain": "pure: the terms of a score",
    "reports.webhook_events_selected": "reads the events a workspace's webhooks selected (pmhub/subscribers.py)",
    "integrations.channel_events_selected": "reads the events a workspace's channels subscribed to",
    "backlog.is_done": "pure: whether a status is in a done category",
    "backlog.mentioned_users": "reads the members an @mention names",
    "backlog.score_of": "pure: an item's score under a model",
    "backlog.story_payload": "the JSON shape of a story in webhooks",
    "backlog.story_url": "a story's page address",
    "backlog.what_if": "ranking under a candidate model, without writing",
    "backlog.workflow_of": "reads the product's workflow",
    "delivery.export_csv": "reads stories into CSV text",
    "delivery.iteration_capacity": "reads committed points against capacity",
    "metrics.kpi_state": "the JSON shape of a KPI in 409 answers",
    "adoption.ingestion_key_authenticate": "looks an ingestion key up by its raw value",
    "adoption.prediction_snapshot": "pure: the score and inputs as JSON numbers",
    "adoption.success_kpis": "reads an epic's or initiative's success KPIs",
    "reports.notification_preferences_for": "reads a user's e-mail preferences",
    "reports.recipient_for_token": "looks a recipient up by a signed token",
    "reports.report_build": "reads a report's data",
    "reports.report_run_pdf_stored": "reads a run's stored PDF",
    "reports.send_lease": "configuration: how long a sending claim is trusted",
    "reports.unsubscribe_token": "signs a recipient's id",
    "reports.unsubscribe_url": "an unsubscribe address",
    "reports.wants_email": "reads a preference",
    "reports.webhook_lease": "configuration: how long a delivery claim is trusted",
    "reports.webhook_sign": "pure: HMAC of a body",
    "integrations.channel_request_build": "reads: unseals a channel's URL and shapes the message for the send task",
    "integrations.channel_page_path": "a channel's page address",
    "integrations.webhook_json_object": "pure: an inbound webhook's body as a JSON object, or a 400 refusal",
    "integrations.jira.signature_valid": "pure: checks a Jira webhook's X-Hub-Signature HMAC",
    "integrations.jira.rules_table": "reads a link's direction and conflict rule per field",
    "pmhub.signup_token": "signs a sign-up link's e-mail and name",
    "pmhub.signup_token_read": "reads a sign-up link (None when forged or expired)",
    "governance.risk_payload": "the JSON shape of a risk in webhooks",
    "governance.risks_review_due": "reads the items whose review date passed and is not yet told",
    "governance.statement_payload": "the JSON shape of an impact statement in webhooks",
    "governance.statement_can_decide": "reads whether a user is among a statement's approvers",
    "discovery.inbound_product_for": "looks a product up by its feedback e-mail address",
    "discovery.validate_email_address": "pure: checks an e-mail address",
    "discovery.shipped_recipients": "reads who to tell that ideas shipped",
    "sso.domain_normalise": "pure: a domain name in its stored form",
    "sso.email_domain": "pure: the domain of an e-mail address",
    "sso.verified_domain_for_email": "reads the verified domain of an address",
    "sso.providers_for_email": "reads the enabled providers of an address's verified domain",
    "sso.provider_for_email": "reads the one provider of an address (None when a choice is needed)",
    "sso.group_roles_clean": "pure: checks a group-to-role table",
    "sso.role_from_groups": "pure: the role a person's groups give",
    "sso.break_glass_allowed": "reads whether an admin may keep a password (SSO_BREAK_GLASS_EMAILS)",
    "sso.password_refusal_for": "reads whether a password sign-in is refused (SSO required)",
    "scim.scim_token_authenticate": "looks a SCIM token up by its raw value (and notes when it was last used)",
}

_CORE = "tests/core/test_success_paths.py::"
_ROAD = "tests/roadmaps/test_success_paths.py::"
_BACK = "tests/backlog/test_success_paths.py::"
_DELI = "tests/delivery/test_success_paths.py::"
_DISC = "tests/discovery/test_services.py::"
_DIMP = "tests/discovery/test_imports.py::"
_DINT = "tests/discovery/test_intake.py::"
_DPOR = "tests/discovery/test_portal.py::"
_METR = "tests/metrics/test_success_paths.py::"
_ADOP = "tests/adoption/test_success_paths.py::"
_REPO = "tests/reports/test_success_paths.py::"
_GOV = "tests/governance/test_success_paths.py::"
_STMT = "tests/governance/test_statements.py::"
_SSO = "tests/sso/test_services.py::"
_SSOP = "tests/sso/test_pages.py::"
_LAUN = "tests/governance/test_launch.py::"
_PORT = "tests/governance/test_portfolio.py::"
_CHAN = "tests/integrations/test_channels.py::"
_GH = "tests/integrations/test_github.py::"
_JIRA = "tests/integrations/test_jira.py::"
_JIRA_W = "tests/integration/test_jira_worker.py::"
_LIFE = "tests/governance/test_lifecycle.py::"
_SCU = "tests/scim/test_users.py::"
_SCG = "tests/scim/test_groups.py::"
_SCT = "tests/scim/test_tokens_api.py::"

SUCCESS_TESTS = {
    # scim
    "scim.scim_token_create": _SCT + "test_scim_token_create_returns_the_key_once_and_stores_its_hash",
    "scim.scim_token_revoke": _SCT + "test_scim_token_revoke_through_delete_stops_it_at_once",
    "scim.scim_config_update": _SCG + "test_scim_config_update_sets_the_default_role",
    "scim.scim_group_set_role": _SCG + "test_scim_group_set_role_gives_its_members_the_role_and_logs_it",
    "scim.session_index_prune": "tests/scim/test_sessions_and_tenancy.py::test_session_index_prune_forgets_ended_sessions_only",
    "scim.sessions_end": "tests/scim/test_sessions_and_tenancy.py::test_sessions_end_deletes_every_session_of_the_person",
    "scim.scim_user_create": _SCU + "test_scim_user_create_makes_an_account_and_a_membership_with_the_default_role",
    "scim.scim_user_replace": _SCU + "test_scim_user_replace_updates_the_workspace_view_and_an_exclusive_account",
    "scim.scim_user_patch": _SCU + "test_scim_user_patch_adds_replaces_and_removes_attributes",
    "scim.scim_user_delete": _SCU + "test_deprovisioning_removes_membership_revokes_tokens_and_deactivates_but_keeps_content",
    "scim.scim_group_create": _SCG + "test_scim_group_create_with_members",
    "scim.scim_group_replace": _SCG + "test_scim_group_replace_sets_name_and_members",
    "scim.scim_group_patch": _SCG + "test_patch_adds_removes_and_replaces_members",
    "scim.scim_group_delete": _SCG + "test_scim_group_delete_removes_it",
    # governance
    "governance.risk_create": _GOV + "test_risk_create_scores_links_records_and_emits",
    "governance.risk_update": _GOV + "test_risk_update_rescores_bumps_version_and_names_the_change",
    "governance.risk_delete": _GOV + "test_risk_delete_removes_it_and_logs",
    "governance.issue_note_add": _GOV + "test_issue_note_add_keeps_who_and_when",
    "governance.appetite_set": _GOV + "test_appetite_set_creates_then_versions_the_setting",
    "governance.risk_appetite_notify": _GOV + "test_owner_is_notified_once_when_above_appetite_and_again_only_when_it_rises",
    "governance.risk_review_notify": _GOV + "test_review_notify_tells_the_owner_once_per_review_date",
    "governance.template_create": _LAUN + "test_template_create_keeps_the_items_in_order",
    "governance.template_delete": _LAUN + "test_template_delete_removes_it",
    "governance.checklist_apply_template": _LAUN + "test_applying_a_template_copies_items_due_before_the_release_once",
    "governance.launch_item_create": _LAUN + "test_launch_item_create_and_tick_keep_who_and_when",
    "governance.launch_item_update": _LAUN + "test_launch_item_create_and_tick_keep_who_and_when",
    "governance.launch_item_delete": _LAUN + "test_launch_item_delete_removes_it",
    "governance.ship_override_record": _LAUN + "test_ship_override_record_is_the_guards_record",
    "governance.portfolio_settings_set": _PORT + "test_portfolio_settings_set_chooses_the_model",
    "governance.portfolio_capacity_set": _PORT + "test_portfolio_capacity_set_writes_and_removes",
    "governance.portfolio_entry_save": _PORT + "test_portfolio_entry_save_creates_then_versions",
    "governance.portfolio_decide": _PORT + "test_portfolio_decide_is_kept_on_the_item_and_in_the_activity_log",
    "governance.stage_set": _LIFE + "test_stage_set_moves_the_stage_and_keeps_the_history",
    "governance.stage_set_claiming_product": "tests/governance/test_lifecycle_stages.py::"
                                             "test_the_lifecycle_endpoint_reads_and_admins_set_the_stage",
    "governance.lifecycle_evaluate": _LIFE + "test_lifecycle_evaluate_makes_the_proposal",
    "governance.proposal_decide": _LIFE + "test_proposal_decide_accept_moves_the_stage_with_history",
    "governance.statement_save": _STMT + "test_statement_save_keeps_every_revision_and_goes_back_to_draft",
    "governance.statement_submit": _STMT + "test_statement_submit_asks_the_admins_once",
    "governance.statement_decide": _STMT + "test_statement_decide_approves_records_and_tells_the_requester",
    "governance.statement_requirement_set": _STMT + "test_statement_requirement_set_is_recorded",
    "governance.statement_approvers_notify_once": _STMT + "test_statement_submit_asks_the_admins_once",
    "governance.statement_requester_notify_once": _STMT + "test_statement_decide_approves_records_and_tells_the_requester",
    # core
    "pmhub.activity_record": "tests/core/test_workspaces.py::test_creating_a_workspace_makes_the_creator_admin_and_logs_it",
    "pmhub.api_token_create": "tests/core/test_tokens.py::test_token_created_in_browser_is_shown_once_and_stored_hashed",
    "pmhub.api_token_revoke": _CORE + "test_api_token_create_stores_only_a_hash_and_revoke_stops_it",
    "pmhub.api_tokens_revoke": "tests/core/test_token_cache.py::test_api_tokens_revoke_revokes_and_forgets_a_cached_token",
    "pmhub.invitation_accept": "tests/core/test_workspaces.py::test_invitation_is_emailed_and_accepted_with_its_role",
    "pmhub.invitation_create": _CORE + "test_invitation_create_sends_the_email_on_commit",
    "pmhub.invitation_revoke": _CORE + "test_invitation_revoke_closes_the_invitation",
    "pmhub.job_create": _CORE + "test_a_job_reports_progress_then_finishes",
    "pmhub.job_progress": _CORE + "test_a_job_reports_progress_then_finishes",
    "pmhub.job_finish": _CORE + "test_a_job_reports_progress_then_finishes",
    "pmhub.membership_remove": _CORE + "test_membership_remove_deletes_it_and_revokes_the_members_tokens",
    "pmhub.membership_set_role": _CORE + "test_membership_set_role_changes_what_the_member_may_do",
    "pmhub.notifications_mark_read": "tests/core/test_navigation_cache.py::test_unread_count_follows_notify_mark_read_and_delete",
    "pmhub.notify": "tests/core/test_navigation_cache.py::test_unread_count_follows_notify_mark_read_and_delete",
    "pmhub.user_create": _CORE + "test_user_create_stores_a_lower_case_email_and_a_hashed_password",
    "pmhub.workspace_create": _CORE + "test_workspace_create_makes_the_creator_admin",
    "pmhub.workspace_update": _CORE + "test_workspace_update_renames_and_changes_the_time_zone",
    # roadmaps
    "roadmaps.business_case_update": _ROAD + "test_business_case_update_creates_then_changes_the_case",
    "roadmaps.capability_rate": _ROAD + "test_capability_rate_records_and_changes_a_rating",
    "roadmaps.child_create": _ROAD + "test_children_are_created_updated_and_deleted",
    "roadmaps.child_update": _ROAD + "test_children_are_created_updated_and_deleted",
    "roadmaps.child_delete": _ROAD + "test_children_are_created_updated_and_deleted",
    "roadmaps.dependency_create": _ROAD + "test_dependency_create_and_delete",
    "roadmaps.dependency_delete": _ROAD + "test_dependency_create_and_delete",
    "roadmaps.initiative_create": "tests/roadmaps/test_services.py::test_initiative_writes_emit_webhook_and_activity",
    "roadmaps.initiative_delete": "tests/roadmaps/test_services.py::test_initiative_writes_emit_webhook_and_activity",
    "roadmaps.initiative_move": "tests/roadmaps/test_services.py::test_initiative_writes_emit_webhook_and_activity",
    "roadmaps.initiative_update": _ROAD + "test_initiative_update_bumps_the_version_and_emits",
    "roadmaps.key_result_create": _ROAD + "test_key_result_create_adds_it_to_the_objective",
    "roadmaps.objective_create": _ROAD + "test_objective_create_and_update",
    "roadmaps.objective_update": _ROAD + "test_objective_create_and_update",
    "roadmaps.product_create": _ROAD + "test_product_create_and_update_are_recorded",
    "roadmaps.product_update": _ROAD + "test_product_create_and_update_are_recorded",
    "roadmaps.product_delete": "tests/roadmaps/test_services.py::test_product_soft_delete_and_restore",
    "roadmaps.product_restore": "tests/roadmaps/test_services.py::test_product_soft_delete_and_restore",
    "roadmaps.release_assign": _ROAD + "test_release_assign_and_epics_link_put_initiatives_and_epics_in_scope_and_take_them_out",
    "backlog.epics_link": _ROAD + "test_release_assign_and_epics_link_put_initiatives_and_epics_in_scope_and_take_them_out",
    "backlog.initiative_take_stories": "tests/roadmaps/test_work_links.py::test_api_initiative_takes_an_epic_and_a_story_and_shows_its_progress",
    "backlog.initiative_release_stories": "tests/roadmaps/test_work_links.py::test_api_initiative_lets_go_of_an_epic_and_a_story",
    "pmhub.signup_request": "tests/security/test_signin_abuse.py::test_the_link_creates_the_account_and_signs_in",
    "pmhub.signup_complete": "tests/security/test_signin_abuse.py::test_the_link_creates_the_account_and_signs_in",
    "backlog.story_status_set": "tests/delivery/test_custom_workflow.py::test_status_service_sets_done_time_version_and_status_event",
    "roadmaps.release_mark_released": "tests/roadmaps/test_services.py::test_marking_released_sends_release_shipped_once",
    "roadmaps.share_link_create": "tests/roadmaps/test_share_views.py::"
                                  "test_the_sharer_picks_view_filters_and_presentation_on_the_page",
    "roadmaps.share_link_revoke": _ROAD + "test_share_link_revoke_stops_the_link",
    "roadmaps.snapshot_create": _ROAD + "test_snapshot_create_freezes_the_roadmap",
    # backlog
    "backlog.comment_create": _BACK + "test_a_comment_notifies_the_mentioned_member",
    "backlog.criterion_add": _BACK + "test_criteria_are_added_and_ticked",
    "backlog.criterion_toggle": _BACK + "test_criteria_are_added_and_ticked",
    "backlog.custom_field_create": _BACK + "test_custom_field_update_changes_label_options_and_required",
    "backlog.custom_field_update": _BACK + "test_custom_field_update_changes_label_options_and_required",
    "backlog.custom_field_delete": _BACK + "test_custom_field_delete_removes_the_definition",
    "backlog.demand_recompute": _BACK + "test_demand_recompute_sums_importance_times_segment_weight",
    "backlog.epic_create": "tests/core/test_webhook_events.py::test_a_subscribed_epic_event_is_delivered_to_the_outbox",
    "backlog.epic_update": _BACK + "test_epic_update_bumps_its_version_and_emits",
    "backlog.epic_delete": _BACK + "test_epic_delete_removes_it_and_keeps_its_stories",
    "backlog.rebalance": _BACK + "test_rebalance_rewrites_ranks_short_and_keeps_the_order",
    "backlog.compact_story_tallies": "tests/backlog/test_story_tally.py::test_compaction_folds_the_rows_and_keeps_the_figures",
    "backlog.rescore_product": _BACK + "test_rescore_product_recomputes_an_outdated_score",
    "backlog.saved_view_create": _BACK + "test_saved_view_create_update_and_delete",
    "backlog.saved_view_update": _BACK + "test_saved_view_create_update_and_delete",
    "backlog.saved_view_delete": _BACK + "test_saved_view_create_update_and_delete",
    "backlog.scoring_model_update": "tests/backlog/test_api.py::test_weighted_model_with_demand_and_custom_field",
    "backlog.settings_update": "tests/backlog/test_services.py::test_custom_workflow_maps_statuses_to_categories",
    "backlog.stories_bulk_create": "tests/backlog/test_services.py::test_bulk_create_inserts_once_with_ranks_scores_and_criteria",
    "backlog.stories_bulk_update": "tests/backlog/test_api.py::test_bulk_edit_changes_status_epic_and_labels",
    "backlog.story_create": "tests/backlog/test_services.py::test_writes_emit_webhooks_and_record_activity",
    "backlog.story_update": "tests/backlog/test_services.py::test_writes_emit_webhooks_and_record_activity",
    "backlog.story_move": "tests/backlog/test_services.py::test_writes_emit_webhooks_and_record_activity",
    "backlog.story_move_by_id": "tests/backlog/test_story_writes_one_batch.py::"
                                "test_a_move_answers_the_serializers_bytes_for_hostile_text_decimals_and_nulls",
    "backlog.story_create_by_product_id": "tests/backlog/test_story_writes_one_batch.py::"
                                          "test_a_create_answers_the_detail_serializers_bytes",
    "backlog.story_delete": _BACK + "test_story_delete_removes_the_story_and_records_who_deleted_it",
    # delivery
    "delivery.change_request_create": "tests/delivery/test_scope.py::test_after_approval_a_change_is_a_pending_request_and_admins_are_notified",
    "delivery.change_request_decide": "tests/delivery/test_scope.py::test_approve_applies_the_change_and_keeps_history",
    "delivery.import_upload": "tests/delivery/test_import.py::test_round_trip_export_then_import_loses_nothing",
    "delivery.import_parse": "tests/delivery/test_import_worker.py::test_upload_stores_the_file_and_queues_the_parse_without_parsing",
    "delivery.import_parse_give_up": "tests/delivery/test_import_worker.py::test_a_crashed_parse_fails_the_job_instead_of_polling_forever",
    "delivery.import_preview": "tests/delivery/test_import.py::test_unknown_status_can_be_mapped",
    "delivery.import_confirm": "tests/delivery/test_import.py::test_confirm_imports_valid_rows_in_the_background",
    "delivery.import_run": "tests/delivery/test_import.py::test_confirm_imports_valid_rows_in_the_background",
    "delivery.iteration_create": "tests/delivery/test_iterations.py::test_editor_creates_iteration_and_activity_is_recorded",
    "delivery.iteration_update": _DELI + "test_iteration_update_and_delete_are_recorded",
    "delivery.iteration_delete": _DELI + "test_iteration_update_and_delete_are_recorded",
    "delivery.iteration_add_story": "tests/delivery/test_iterations.py::test_story_is_in_one_iteration_at_a_time_and_history_is_kept",
    "delivery.iteration_remove_story": "tests/delivery/test_burn.py::test_capacity_of_an_iteration_from_its_open_stays",
    "delivery.scope_approve": "tests/delivery/test_scope.py::test_approval_snapshots_stories_and_points",
    "delivery.scope_change": "tests/delivery/test_scope.py::test_editor_changes_scope_directly_before_approval",
    # metrics
    "metrics.kpi_create": _METR + "test_kpi_create_emits_kpi_created",
    "metrics.kpi_update": _METR + "test_kpi_update_bumps_the_version_and_is_recorded",
    "metrics.kpi_delete": _METR + "test_kpi_delete_removes_it_with_its_measurements",
    "metrics.kpi_refresh_current": _METR + "test_kpi_refresh_current_follows_the_latest_period",
    "metrics.kpi_health_evaluate": "tests/metrics/test_health_transitions.py::test_health_transitions_open_and_close_the_action_plan",
    "metrics.measurements_upsert": "tests/metrics/test_measurements.py::test_resent_period_updates_the_value_and_the_current_value",
    "metrics.measurements_bulk_upsert": _METR + "test_measurements_bulk_upsert_writes_values_of_several_kpis",
    "metrics.measurement_delete": "tests/metrics/test_measurements.py::test_deleting_the_latest_value_moves_current_back",
    "metrics.upload_stage": _METR + "test_a_staged_csv_upload_is_written_on_confirmation",
    "metrics.upload_parse": "tests/metrics/test_upload_worker.py::test_upload_stores_the_file_and_the_worker_parses_it",
    "metrics.upload_parse_give_up": "tests/metrics/test_upload_worker.py::test_a_crashed_parse_ends_with_a_reason_not_polling_forever",
    "metrics.upload_confirm": _METR + "test_a_staged_csv_upload_is_written_on_confirmation",
    "metrics.action_plan_create": _METR + "test_an_action_plan_is_opened_updated_and_closed",
    "metrics.action_plan_update": _METR + "test_an_action_plan_is_opened_updated_and_closed",
    "metrics.action_plan_close": _METR + "test_an_action_plan_is_opened_updated_and_closed",
    # adoption
    "adoption.events_ingest": "tests/adoption/test_ingestion.py::test_valid_batch_is_stored_and_rolled_up_on_commit",
    "adoption.feature_create": _ADOP + "test_feature_create_and_update_emit_their_events",
    "adoption.feature_update": _ADOP + "test_feature_create_and_update_emit_their_events",
    "adoption.feature_delete": _ADOP + "test_feature_delete_removes_it_and_records_its_key",
    "adoption.feature_kpis_sync": "tests/adoption/test_rollups.py::test_adoption_is_written_into_the_features_kpi",
    "adoption.ingestion_key_create": "tests/adoption/test_api.py::test_admin_creates_a_key_shown_once_and_stored_hashed",
    "adoption.ingestion_key_revoke": "tests/adoption/test_api.py::test_admin_revokes_a_key_and_it_stops_working",
    "adoption.outcome_review_open": "tests/adoption/test_outcomes.py::test_shipping_a_release_records_baseline_and_prediction",
    "adoption.outcome_reviews_open_for_release": "tests/adoption/test_outcomes.py::test_shipping_a_release_records_baseline_and_prediction",
    "adoption.outcome_checkpoints_measure_due": "tests/adoption/test_outcomes.py::test_due_checkpoints_measure_the_kpi_once",
    # discovery
    "discovery.feedback_file": "tests/discovery/test_feedback.py::test_feedback_lands_in_the_inbox_highlighted_for_its_work",
    "discovery.release_note_delete": "tests/discovery/test_api_portal.py::test_release_notes_api_publishes_lists_and_removes",
    "discovery.company_create": _DISC + "test_company_create_stores_normalised_fields_and_logs",
    "discovery.company_update": _DISC + "test_company_update_needs_the_version_read",
    "discovery.company_delete": _DISC + "test_delete_services_remove_rows",
    "discovery.company_upsert": _DISC + "test_upsert_matches_by_external_id_then_domain_and_is_idempotent",
    "discovery.person_create": _DISC + "test_person_joins_the_company_of_their_domain",
    "discovery.person_update": _DISC + "test_person_update_renames",
    "discovery.person_delete": _DISC + "test_delete_services_remove_rows",
    "discovery.insights_intake": _DISC + "test_bulk_intake_is_idempotent_per_key_and_resolves_people_and_companies",
    "discovery.insight_create": _DISC + "test_insight_create_files_one_by_hand",
    "discovery.insight_update": _DISC + "test_insight_update_changes_state_and_owner",
    "discovery.insight_delete": _DISC + "test_delete_services_remove_rows",
    "discovery.highlight_create": _DISC + "test_highlight_adds_weighted_demand_to_the_story",
    "discovery.highlight_delete": _DISC + "test_highlight_adds_weighted_demand_to_the_story",
    "discovery.csv_import_upload": _DIMP + "test_companies_csv_is_read_into_a_preview_and_imported_on_confirm",
    "discovery.csv_import_parse": _DIMP + "test_companies_csv_is_read_into_a_preview_and_imported_on_confirm",
    "discovery.csv_import_confirm": _DIMP + "test_companies_csv_is_read_into_a_preview_and_imported_on_confirm",
    "discovery.csv_import_apply": _DIMP + "test_insights_csv_files_rows_once_per_id",
    "discovery.intake_of": _DINT + "test_admin_opens_the_form_lists_origins_and_renews_keys",
    "discovery.intake_update": _DINT + "test_admin_opens_the_form_lists_origins_and_renews_keys",
    "discovery.intake_rotate_keys": _DINT + "test_admin_opens_the_form_lists_origins_and_renews_keys",
    "discovery.inbound_email_receive": _DINT + "test_listener_files_a_real_message_to_the_product_of_its_address_once",
    "discovery.inbound_email_file": _DINT + "test_listener_files_a_real_message_to_the_product_of_its_address_once",
    "discovery.portal_save": _DPOR + "test_portal_settings_need_an_admin",
    "discovery.portal_logo_set": "tests/discovery/test_portal_logo.py::test_admin_uploads_a_logo_served_with_its_real_type",
    "discovery.portal_signin_request": _DPOR + "test_signin_link_is_single_use_and_signs_in",
    "discovery.portal_link_mail": _DPOR + "test_signin_link_is_single_use_and_signs_in",
    "discovery.portal_signin_consume": _DPOR + "test_signin_link_is_single_use_and_signs_in",
    "discovery.idea_submit": _DPOR + "test_visitor_submits_votes_once_follows_and_comments",
    "discovery.idea_vote": _DPOR + "test_visitor_submits_votes_once_follows_and_comments",
    "discovery.idea_unvote": _DPOR + "test_visitor_unvotes",
    "discovery.idea_follow": _DPOR + "test_visitor_submits_votes_once_follows_and_comments",
    "discovery.idea_comment": _DPOR + "test_visitor_submits_votes_once_follows_and_comments",
    "discovery.idea_recount": _DPOR + "test_demand_weights_votes_by_company_revenue_and_segment",
    "discovery.ideas_recount_product": _DPOR + "test_revenue_change_recomputes_idea_demand_in_the_worker",
    "discovery.idea_create": _DPOR + "test_pm_curates_on_the_idea_page",
    "discovery.idea_update": _DPOR + "test_pm_curates_on_the_idea_page",
    "discovery.idea_merge": _DPOR + "test_merge_combines_votes_and_followers_counting_nobody_twice",
    "discovery.release_note_create": _DPOR + "test_release_notes_on_the_portal_and_in_atom",
    "discovery.ideas_ship_for_release": _DPOR + "test_shipping_the_linked_release_ships_the_idea_and_mails_each_person_once",
    "discovery.ideas_ship_for_story": "tests/discovery/test_ship_by_stories.py::test_ideas_ship_when_all_their_stories_are_done",
    "discovery.ideas_shipped_mail": _DPOR + "test_shipping_the_linked_release_ships_the_idea_and_mails_each_person_once",
    "discovery.visitor_unsubscribe": _DPOR + "test_shipping_the_linked_release_ships_the_idea_and_mails_each_person_once",
    "discovery.idea_delete": "tests/discovery/test_api.py::test_ideas_api_create_curate_merge_delete",
    "discovery.form_insight_submit": _DINT + "test_form_post_from_a_listed_origin_files_an_insight",
    # reports
    "reports.notification_email_queue": "tests/reports/test_notifications.py::test_notification_is_mailed_on_commit_by_default",
    "reports.notification_email_deliver": "tests/reports/test_notifications.py::test_notification_is_mailed_on_commit_by_default",
    "reports.notification_preference_set": "tests/reports/test_notifications.py::test_preferences_page_saves_choices",
    "reports.recipient_unsubscribe": "tests/reports/test_pages.py::test_outside_recipient_unsubscribes_with_the_signed_link_without_signing_in",
    "reports.report_run_deliver": "tests/reports/test_delivery.py::test_send_now_mails_each_recipient_once_through_smtp",
    "reports.report_run_pdf_render": "tests/reports/test_pdf_stored.py::test_the_stored_pdf_is_the_runs_own_data",
    "reports.report_run_pdf_request": "tests/reports/test_pdf_stored.py::test_a_download_without_a_stored_pdf_is_a_202_page_and_queues_the_render_once",
    "reports.report_run_fail": "tests/reports/test_delivery.py::test_smtp_down_ends_in_failed_state_and_notifies_the_owner",
    "reports.report_send_now": "tests/reports/test_delivery.py::test_send_now_mails_each_recipient_once_through_smtp",
    "reports.reports_enqueue_due": "tests/reports/test_cadence.py::test_beat_creates_one_run_per_due_subscription_and_period",
    "reports.run_create": "tests/reports/test_cadence.py::test_beat_creates_one_run_per_due_subscription_and_period",
    "reports.subscription_create": _REPO + "test_subscription_create_update_and_delete",
    "reports.subscription_update": _REPO + "test_subscription_create_update_and_delete",
    "reports.subscription_delete": _REPO + "test_subscription_create_update_and_delete",
    "reports.webhook_attempt": "tests/reports/test_webhooks.py::test_delivery_is_signed_and_verified_by_the_receiver",
    "reports.webhook_deliveries_create": "tests/reports/test_webhooks.py::test_only_active_endpoints_of_the_workspace_that_chose_the_event_get_it",
    "reports.webhook_deliveries_sweep": "tests/reports/test_webhook_outbox.py::test_the_sweep_sends_a_delivery_left_pending_by_a_broker_outage_once",
    "reports.webhook_delivery_give_up": "tests/reports/test_webhooks.py::test_endpoint_failing_ten_deliveries_in_a_row_is_disabled_and_admins_notified",
    "reports.webhook_endpoint_create": "tests/reports/test_webhooks.py::test_delivery_is_signed_and_verified_by_the_receiver",
    "reports.webhook_endpoint_update": _REPO + "test_webhook_endpoint_update_changes_events_and_reenables_it",
    "reports.webhook_endpoint_delete": _REPO + "test_webhook_endpoint_delete_removes_it",
    "reports.webhook_retry_schedule": "tests/reports/test_webhooks.py::test_failed_attempts_are_retried_and_logged",
    # integrations
    "integrations.channel_create": _CHAN + "test_the_url_is_sealed_at_rest_and_opens_again",
    "integrations.channel_update": _CHAN + "test_channel_update_changes_name_events_product_and_url",
    "integrations.channel_delete": _CHAN + "test_delete_removes_the_channel_and_its_log",
    "integrations.channel_deliveries_create": _CHAN + "test_story_created_posts_block_kit_with_a_link_to_the_story",
    "integrations.channel_test_send": _CHAN + "test_send_test_message_goes_through_the_log",
    "integrations.repository_connect": _GH + "test_connecting_seals_the_secret_and_shows_it_once",
    "integrations.repository_update": _GH + "test_repository_update_changes_the_merge_status_and_needs_the_version",
    "integrations.repository_disconnect": _GH + "test_disconnect_removes_the_repository_and_its_links",
    "integrations.github_delivery_receive": _GH + "test_merging_moves_the_story_through_the_status_service_and_the_log_says_github",
    "sso.sign_in_from_identity": _SSO + "test_unknown_person_gets_a_just_in_time_account_with_the_mapped_role",
    "sso.provider_create": _SSOP + "test_admin_adds_a_provider_whose_secret_is_sealed_and_never_shown",
    "sso.provider_update": _SSOP + "test_admin_edits_a_provider_keeping_the_secret_when_left_empty_then_deletes_it",
    "sso.provider_delete": _SSOP + "test_admin_edits_a_provider_keeping_the_secret_when_left_empty_then_deletes_it",
    "sso.domain_create": _SSOP + "test_admin_adds_verifies_and_requires_a_domain",
    "sso.domain_verify": _SSO + "test_domain_is_verified_by_its_txt_record_once_across_workspaces",
    "sso.domain_verify_by_operator": _SSO + "test_operator_verifies_a_domain_from_the_command_line",
    "sso.domain_update": _SSOP + "test_admin_adds_verifies_and_requires_a_domain",
    "sso.domain_delete": _SSOP + "test_admin_adds_verifies_and_requires_a_domain",
    "integrations.jira.connection_create": _JIRA + "test_the_connection_test_finds_the_user_and_projects_and_the_secrets_are_sealed",
    "integrations.jira.connection_check": _JIRA + "test_the_connection_test_finds_the_user_and_projects_and_the_secrets_are_sealed",
    "integrations.jira.connection_test_queue": "tests/integrations/test_jira_tenancy.py::test_the_admin_reads_and_writes_and_never_sees_a_secret",
    "integrations.jira.connection_update": _JIRA + "test_an_expired_token_shows_in_the_log_and_on_the_connection_then_is_fixed",
    "integrations.jira.connection_delete": _JIRA + "test_connection_delete_removes_links_mapping_and_log_and_keeps_stories",
    "integrations.jira.link_create": _JIRA + "test_the_connection_test_finds_the_user_and_projects_and_the_secrets_are_sealed",
    "integrations.jira.link_discover": _JIRA + "test_the_connection_test_finds_the_user_and_projects_and_the_secrets_are_sealed",
    "integrations.jira.link_update": _JIRA + "test_link_update_sets_rules_overrides_and_deletion_and_needs_the_version",
    "integrations.jira.link_delete": _JIRA + "test_link_delete_unlinks_and_both_sides_stay",
    "integrations.jira.import_preview_queue": _JIRA + "test_import_previews_then_creates_with_paging_and_a_rerun_creates_nothing",
    "integrations.jira.import_preview": _JIRA + "test_import_previews_then_creates_with_paging_and_a_rerun_creates_nothing",
    "integrations.jira.import_run_queue": _JIRA + "test_import_previews_then_creates_with_paging_and_a_rerun_creates_nothing",
    "integrations.jira.import_run": _JIRA_W + "test_1000_issues_are_imported_with_paging_and_a_rerun_creates_nothing",
    "integrations.jira.push_existing": _JIRA + "test_push_existing_creates_one_issue_per_story_without_one",
    "integrations.jira.outbox_retry": _JIRA_W + "test_an_expired_token_is_shown_then_fixed",
    "integrations.jira.outbox_sweep": _JIRA + "test_the_sweep_sends_due_outbox_rows_that_were_never_queued",
    "integrations.jira.reconcile_all": _JIRA_W + "test_a_lost_webhook_is_healed_by_the_reconcile",
    "integrations.jira.delivery_receive": _JIRA_W + "test_edits_flow_both_ways_and_a_double_webhook_is_one_change",
}


def public_services() -> set[str]:
    """`app.name` of every public function defined in an app's services.py."""
    found = set()
    for app in APPS:
        module = importlib.import_module(f"{app}.services")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                found.add(f"{app}.{name}")
    return found


@cache
def _tests_in(path: str) -> set[str]:
    file = Path(settings.BASE_DIR) / path
    if not file.exists():
        return set()
    tree = ast.parse(file.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_write_service_names_its_success_test():
    missing = sorted(public_services() - set(READS) - set(SUCCESS_TESTS))
    assert not missing, ("write services without a success test (write one and name it in SUCCESS_TESTS, "
                         f"or list a read in READS): {missing}")


def test_the_lists_name_only_existing_services():
    stale = sorted((set(READS) | set(SUCCESS_TESTS)) - public_services())
    assert not stale, f"no such service any more: {stale}"
    assert not set(READS) & set(SUCCESS_TESTS)


def test_every_named_success_test_exists():
    absent = [node for node in SUCCESS_TESTS.values()
              if node.split("::")[1] not in _tests_in(node.split("::")[0])]
    assert not absent, f"named success tests that do not exist: {absent}"


def test_the_named_success_tests_are_not_refusal_tests():
    # A refusal test proves nothing about the success path; its name says which it is.
    refusals = ("refuse", "cannot", "forbid", "denied", "_is_404", "_is_403", "_is_400", "stale")
    wrong = [node for node in SUCCESS_TESTS.values() if any(word in node.split("::")[1] for word in refusals)]
    assert not wrong, wrong
