-- Removal status of negative credit records (停止公示 / 信用修复), one row per case.
-- Inputs: __CASES__ (the caller's cases relation, CASE_COLUMNS + OPTIONAL_CASE_COLUMNS), __AS_OF__ (a DATE
--         literal), __CALENDAR_MISSING__ (the message for a year the official calendar lacks, with {year}),
--         and the temp tables loaded by engine.install_rules: removal_rules, removal_rule_exclusions,
--         removal_low_fine_thresholds, removal_calendar. __STABLE_UNTIL__: empty, or the extra output column
--         `stable_until` (engine.STABLE_UNTIL_COLUMN) for callers that keep answers between as-of dates.
--
-- Counting (民法典 Arts 200–204): a period starts the day after its start date and ends at 24:00 of the
-- corresponding day, month-end clamped (2024-02-29 + 12 months → 2025-02-28). So:
--   display_until      = start + max months                (last day shown, 公示截止期)
--   auto_removal_on    = display_until + 1 day             (first day not shown)
--   early_removal_from = the later of (start + min months + 1 day) and the day the conditions were met
--                        (with no minimum period: the later of the start and that day)
--   escalation_on      = start + escalation months + 1 day (the listing is then 满三年)
--   removal_deadline   = N working days after the term's last day / the day the conditions were met, on
--                        China's official calendar (removal_calendar)
--
-- A predicate that cannot be decided because a case cell is empty stays NULL (SQL's unknown), so nothing is
-- chosen or excluded on missing data: the answer is status `unknown` with "unknown: needs <field>" in reason.
-- Each case is answered once as it is (variant 'main') and, where a rule of its platform and record type
-- names an alternative reading, once more as if it fell under the later regime (variant 'alt').
WITH raw AS (
    SELECT
        row_number() OVER () AS _row,
        *
    FROM __CASES__
),

cases AS (
    SELECT
        _row,
        CAST(record_id AS VARCHAR) AS record_id,
        lower(trim(CAST(record_type AS VARCHAR))) AS record_type,
        lower(trim(CAST(platform AS VARCHAR))) AS platform,
        CASE
            WHEN nullif(trim(CAST(penalty_kinds AS VARCHAR)), '') IS NOT NULL
                THEN list_filter(
                    list_transform(string_split(CAST(penalty_kinds AS VARCHAR), '|'), lambda k: lower(trim(k))),
                    lambda k: k <> ''
                )
        END AS kinds,
        nullif(trim(CAST(fine_amount_yuan AS VARCHAR)), '') AS fine_raw,
        TRY_CAST(nullif(trim(CAST(fine_amount_yuan AS VARCHAR)), '') AS DECIMAL(18, 2)) AS fine_amount_yuan,
        nullif(lower(trim(CAST(domain AS VARCHAR))), '') AS domain,
        nullif(lower(trim(CAST(severity AS VARCHAR))), '') AS severity,
        nullif(trim(CAST(decision_date AS VARCHAR)), '') AS decision_raw,
        nullif(trim(CAST(publish_date AS VARCHAR)), '') AS publish_raw,
        nullif(trim(CAST(listed_date AS VARCHAR)), '') AS listed_raw,
        nullif(trim(CAST(obligations_done_date AS VARCHAR)), '') AS obligations_raw,
        nullif(trim(CAST(corrected_date AS VARCHAR)), '') AS corrected_raw,
        nullif(trim(CAST(term_years AS VARCHAR)), '') AS term_raw,
        nullif(trim(CAST(new_penalty_date AS VARCHAR)), '') AS new_penalty_raw,
        TRY_CAST(nullif(trim(CAST(decision_date AS VARCHAR)), '') AS DATE) AS decision_date,
        TRY_CAST(nullif(trim(CAST(publish_date AS VARCHAR)), '') AS DATE) AS publish_date,
        TRY_CAST(nullif(trim(CAST(listed_date AS VARCHAR)), '') AS DATE) AS listed_date,
        TRY_CAST(nullif(trim(CAST(obligations_done_date AS VARCHAR)), '') AS DATE) AS obligations_done_date,
        TRY_CAST(nullif(trim(CAST(corrected_date AS VARCHAR)), '') AS DATE) AS corrected_date,
        TRY_CAST(nullif(trim(CAST(term_years AS VARCHAR)), '') AS INTEGER) AS term_years,
        TRY_CAST(nullif(trim(CAST(new_penalty_date AS VARCHAR)), '') AS DATE) AS new_penalty_date,
        nullif(trim(CAST(new_penalty_reference AS VARCHAR)), '') AS new_penalty_reference,
        list_filter(
            list_transform(string_split(coalesce(CAST(assumed_fields AS VARCHAR), ''), '|'), lambda f: lower(trim(f))),
            lambda f: f <> ''
        ) AS assumed_fields,
        -- 湖北省 / 湖北 / 广西壮族自治区 → the short name used in low_fine_thresholds.csv
        nullif(
            regexp_replace(
                trim(CAST(province AS VARCHAR)), '(壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区|省|市)$', ''
            ),
            ''
        ) AS province,
        coalesce(nullif(lower(trim(CAST(subject_type AS VARCHAR))), ''), 'organisation') AS subject_type
    FROM raw
),

-- Cells that are present but cannot be read, or that contradict each other or the as-of date: reported
-- before any rule is tried (the row gets an error; every other row is still answered).
bad_cells AS (
    SELECT
        _row,
        list_filter(
            [
                CASE WHEN record_id IS NULL OR trim(record_id) = '' THEN 'record_id is empty' END,
                CASE WHEN fine_raw IS NOT NULL AND (fine_amount_yuan IS NULL OR fine_amount_yuan < 0)
                    THEN 'fine_amount_yuan is not an amount in yuan: ' || fine_raw END,
                CASE WHEN decision_raw IS NOT NULL AND decision_date IS NULL
                    THEN 'decision_date is not a date: ' || decision_raw END,
                CASE WHEN publish_raw IS NOT NULL AND publish_date IS NULL
                    THEN 'publish_date is not a date: ' || publish_raw END,
                CASE WHEN listed_raw IS NOT NULL AND listed_date IS NULL
                    THEN 'listed_date is not a date: ' || listed_raw END,
                CASE WHEN obligations_raw IS NOT NULL AND obligations_done_date IS NULL
                    THEN 'obligations_done_date is not a date: ' || obligations_raw END,
                CASE WHEN corrected_raw IS NOT NULL AND corrected_date IS NULL
                    THEN 'corrected_date is not a date: ' || corrected_raw END,
                CASE WHEN new_penalty_raw IS NOT NULL AND new_penalty_date IS NULL
                    THEN 'new_penalty_date is not a date: ' || new_penalty_raw END,
                CASE WHEN term_raw IS NOT NULL AND (term_years IS NULL OR term_years < 1)
                    THEN 'term_years is not a whole number of years >= 1: ' || term_raw END,
                CASE WHEN subject_type NOT IN ('organisation', 'person')
                    THEN 'subject_type must be organisation or person: ' || subject_type END,
                CASE WHEN decision_date > __AS_OF__
                    THEN 'decision_date ' || decision_date || ' is after the as-of date ' || __AS_OF__ END,
                CASE WHEN publish_date > __AS_OF__
                    THEN 'publish_date ' || publish_date || ' is after the as-of date ' || __AS_OF__ END,
                CASE WHEN listed_date > __AS_OF__
                    THEN 'listed_date ' || listed_date || ' is after the as-of date ' || __AS_OF__ END,
                CASE WHEN publish_date < decision_date
                    THEN 'publish_date ' || publish_date || ' is before decision_date ' || decision_date END
            ],
            lambda m: m IS NOT NULL
        ) AS problems,
        -- a problem above quotes the as-of date, so the answer changes with every as-of date
        coalesce(decision_date > __AS_OF__ OR publish_date > __AS_OF__ OR listed_date > __AS_OF__, FALSE)
            AS quotes_as_of
    FROM cases
),

thresholds AS (
    SELECT
        c._row,
        coalesce(p.organisation_yuan, d.organisation_yuan) AS organisation_yuan,
        coalesce(p.person_yuan, d.person_yuan) AS person_yuan,
        p.province IS NULL AS threshold_is_default
    FROM cases AS c
    CROSS JOIN (SELECT * FROM removal_low_fine_thresholds WHERE province = '*') AS d
    LEFT JOIN removal_low_fine_thresholds AS p ON p.province = c.province AND p.province <> '*'
),

cases_fine AS (
    SELECT
        c.*,
        t.threshold_is_default,
        -- 较低数额罚款: TRUE when there is no fine or the fine is below the province's threshold
        CASE
            WHEN c.kinds IS NULL THEN NULL
            WHEN NOT list_contains(c.kinds, 'fine') THEN TRUE
            WHEN c.fine_amount_yuan IS NULL THEN NULL
            ELSE c.fine_amount_yuan
                < CASE WHEN c.subject_type = 'person' THEN t.person_yuan ELSE t.organisation_yuan END
        END AS fine_is_low
    FROM cases AS c
    JOIN thresholds AS t USING (_row)
),

-- The alternative reading: the case once more, as if its regime date fell on the alternative's date.
alternatives AS (
    SELECT DISTINCT platform, unnest(record_types) AS record_type, alternative_regime_from AS regime_override
    FROM removal_rules
    WHERE alternative_regime_from IS NOT NULL
),

variants AS (
    SELECT c.*, 'main' AS variant, NULL::DATE AS regime_override FROM cases_fine AS c
    UNION ALL
    SELECT c.*, 'alt' AS variant, a.regime_override
    FROM cases_fine AS c
    JOIN alternatives AS a ON a.platform = c.platform AND a.record_type = c.record_type
),

pairs AS (
    SELECT
        c._row,
        c.variant,
        r.rule_id,
        r.priority,
        r.low_fine_only,
        r.effective_from,
        r.effective_to,
        CASE r.regime_date
            WHEN 'decision' THEN 'decision_date' WHEN 'publication' THEN 'publish_date' ELSE 'listed_date'
        END AS from_col,
        CASE r.regime_end_date
            WHEN 'decision' THEN 'decision_date' WHEN 'publication' THEN 'publish_date' ELSE 'listed_date'
        END AS to_col,
        coalesce(c.regime_override, CASE r.regime_date
            WHEN 'decision' THEN c.decision_date WHEN 'publication' THEN c.publish_date ELSE c.listed_date
        END) AS from_on,
        coalesce(c.regime_override, CASE r.regime_end_date
            WHEN 'decision' THEN c.decision_date WHEN 'publication' THEN c.publish_date ELSE c.listed_date
        END) AS to_on,
        coalesce(r.platform = c.platform AND list_contains(r.record_types, c.record_type), FALSE) AS p_base,
        CASE WHEN r.severities IS NULL THEN TRUE WHEN c.severity IS NULL THEN NULL
            ELSE list_contains(r.severities, c.severity) END AS p_severity,
        CASE WHEN r.domains IS NULL THEN TRUE WHEN c.domain IS NULL THEN NULL
            ELSE list_contains(r.domains, c.domain) END AS p_domain,
        CASE WHEN r.kinds_all_in IS NULL THEN TRUE WHEN c.kinds IS NULL THEN NULL
            ELSE list_has_all(r.kinds_all_in, c.kinds) END AS p_kinds_all,
        CASE WHEN r.kinds_any_in IS NULL THEN TRUE WHEN c.kinds IS NULL THEN NULL
            ELSE list_has_any(r.kinds_any_in, c.kinds) END AS p_kinds_any,
        CASE WHEN NOT r.low_fine_only THEN TRUE ELSE c.fine_is_low END AS p_fine,
        CASE r.term WHEN 'required' THEN c.term_years IS NOT NULL WHEN 'absent' THEN c.term_years IS NULL
            ELSE TRUE END AS p_term,
        coalesce(list_contains(c.kinds, 'fine'), FALSE) AS has_fine,
        -- the case fields this rule tells apart (for `assumed_fields`: say an assumption only where it mattered)
        list_filter([
            CASE WHEN r.severities IS NOT NULL THEN 'severity' END,
            CASE WHEN r.domains IS NOT NULL THEN 'domain' END
        ], lambda f: f IS NOT NULL) AS rule_fields
    FROM variants AS c
    -- only the rules of the case's platform (a hash join, not every rule × every case)
    JOIN removal_rules AS r ON r.platform = c.platform
),

pairs_judged AS (
    SELECT
        *,
        CASE WHEN effective_from IS NULL THEN TRUE ELSE from_on >= effective_from END AS p_from,
        CASE WHEN effective_to IS NULL THEN TRUE ELSE to_on < effective_to END AS p_to
    FROM pairs
    WHERE p_base
),

candidates AS (
    SELECT
        _row,
        variant,
        rule_id,
        priority,
        rule_fields,
        p_from AND p_to AS p_regime,
        p_severity AND p_domain AND p_kinds_all AND p_kinds_any AND p_fine AND p_term AND p_from AND p_to AS matched,
        list_filter(
            [
                CASE WHEN p_severity IS NULL THEN 'severity' END,
                CASE WHEN p_domain IS NULL THEN 'domain' END,
                CASE WHEN p_kinds_all IS NULL OR p_kinds_any IS NULL THEN 'penalty_kinds' END,
                CASE WHEN p_fine IS NULL THEN 'fine_amount_yuan' END,
                CASE WHEN p_from IS NULL THEN from_col END,
                CASE WHEN p_to IS NULL THEN to_col END
            ],
            lambda m: m IS NOT NULL
        ) AS missing,
        -- the fine threshold took part in choosing the rule (then the threshold's confidence counts)
        low_fine_only AND has_fine
            AND coalesce(p_severity AND p_domain AND p_kinds_all AND p_kinds_any AND p_term AND p_from AND p_to,
                         FALSE)
            AS fine_tested
    FROM pairs_judged
),

top_candidates AS (
    SELECT *
    FROM candidates
    WHERE matched IS NOT FALSE
    QUALIFY rank() OVER (PARTITION BY _row, variant ORDER BY priority DESC) = 1
),

-- Why a case fell outside every rule's regime window, for the error message (sorted: the same case gives the
-- same message however the rows are scheduled).
regime_misses AS (
    SELECT _row, variant, string_agg(DISTINCT miss, '; ' ORDER BY miss) AS misses
    FROM (
        SELECT
            _row,
            variant,
            CASE WHEN p_from IS FALSE THEN from_col || ' ' || CAST(from_on AS VARCHAR)
                ELSE to_col || ' ' || CAST(to_on AS VARCHAR) END
            || ' is outside ' || rule_id || ' ('
            || CASE
                WHEN effective_from IS NULL THEN 'before ' || CAST(effective_to AS VARCHAR)
                WHEN effective_to IS NULL THEN 'from ' || CAST(effective_from AS VARCHAR)
                ELSE 'from ' || CAST(effective_from AS VARCHAR) || ' before ' || CAST(effective_to AS VARCHAR)
            END || ')' AS miss
        FROM pairs_judged
        WHERE (p_from AND p_to) IS FALSE
            AND (p_severity AND p_domain AND p_kinds_all AND p_kinds_any AND p_fine AND p_term) IS NOT FALSE
    )
    GROUP BY _row, variant
),

per_variant AS (
    SELECT
        _row,
        variant,
        bool_or(fine_tested) AS fine_tested,
        -- fields told apart by the rules in force for this case
        list_distinct(flatten(list(rule_fields) FILTER (WHERE p_regime IS NOT FALSE))) AS regime_fields
    FROM candidates
    GROUP BY _row, variant
),

choice AS (
    SELECT
        v._row,
        v.variant,
        coalesce(any_value(f.fine_tested), FALSE) AS fine_tested,
        any_value(f.regime_fields) AS regime_fields,
        count(t.rule_id) FILTER (WHERE t.matched) AS n_matched,
        count(t.rule_id) FILTER (WHERE t.matched IS NULL) AS n_undecided,
        min(t.rule_id) FILTER (WHERE t.matched) AS rule_id,
        string_agg(t.rule_id, ', ' ORDER BY t.rule_id) AS top_rules,
        list_distinct(flatten(list(t.missing) FILTER (WHERE t.matched IS NULL))) AS missing
    FROM variants AS v
    LEFT JOIN top_candidates AS t USING (_row, variant)
    LEFT JOIN per_variant AS f USING (_row, variant)
    GROUP BY v._row, v.variant
),

chosen AS (
    SELECT
        c.*,
        ch.fine_tested,
        ch.regime_fields,
        ch.rule_id AS chosen_rule_id,
        b.problems,
        b.quotes_as_of,
        CASE
            WHEN len(b.problems) > 0 THEN array_to_string(b.problems, '; ')
            WHEN ch.n_undecided > 0 THEN NULL
            WHEN ch.n_matched = 0
                THEN 'no removal rule covers platform=' || coalesce(c.platform, '(empty)')
                    || ', record_type=' || coalesce(c.record_type, '(empty)')
                    || coalesce(', penalty_kinds=' || array_to_string(c.kinds, '|'), '')
                    || coalesce(', severity=' || c.severity, '')
                    || coalesce(': ' || m.misses, '')
            WHEN ch.n_matched > 1 THEN 'rules overlap, fix rules.yaml: ' || ch.top_rules
        END AS choice_error,
        -- a rule cannot be chosen without a field: a missing fact, not an invalid row
        CASE WHEN len(b.problems) = 0 AND ch.n_undecided > 0
            THEN 'unknown: needs ' || array_to_string(list_sort(ch.missing), ', ')
                || ' (to decide on ' || ch.top_rules || ')'
        END AS choice_unknown
    FROM variants AS c
    JOIN choice AS ch USING (_row, variant)
    JOIN bad_cells AS b USING (_row)
    LEFT JOIN regime_misses AS m USING (_row, variant)
),

applied AS (
    SELECT
        c._row,
        c.variant,
        c.record_id,
        c.kinds,
        c.domain,
        c.obligations_done_date,
        c.corrected_date,
        c.term_years,
        c.new_penalty_date,
        c.new_penalty_reference,
        c.threshold_is_default,
        c.fine_tested,
        c.choice_error,
        c.choice_unknown,
        c.quotes_as_of,
        list_filter(c.assumed_fields, lambda f: list_contains(c.regime_fields, f)) AS assumptions,
        c.domain AS assumed_domain,
        c.severity AS assumed_severity,
        r.*,
        CASE r.clock_start
            WHEN 'decision' THEN c.decision_date WHEN 'publication' THEN c.publish_date ELSE c.listed_date
        END AS start_on,
        CASE r.clock_start
            WHEN 'decision' THEN 'decision_date' WHEN 'publication' THEN 'publish_date' ELSE 'listed_date'
        END AS start_col,
        -- a condition counts only once its date has been reached
        coalesce(c.obligations_done_date <= __AS_OF__, FALSE) AS obligations_ok,
        coalesce(c.corrected_date <= __AS_OF__, FALSE) AS corrected_ok,
        -- a term stretches the display only for the kinds the rule names (45号令 Art 13(3): restrictions)
        CASE
            WHEN NOT coalesce(r.max_extends_to_term, FALSE) OR c.term_years IS NULL THEN FALSE
            WHEN r.term_kinds IS NULL THEN TRUE
            ELSE list_has_any(r.term_kinds, c.kinds)
        END AS term_stretches
    FROM chosen AS c
    LEFT JOIN removal_rules AS r ON r.rule_id = c.chosen_rule_id AND c.choice_unknown IS NULL
),

-- Exclusions from early removal: applied when the case has the kinds (and domain); undecidable when a
-- field the exclusion depends on is empty.
exclusion_checks AS (
    SELECT
        a._row,
        a.variant,
        e.basis,
        CASE WHEN a.kinds IS NULL THEN NULL ELSE list_has_any(e.kinds, a.kinds) END AS kinds_hit,
        CASE WHEN e.domains IS NULL THEN TRUE WHEN a.domain IS NULL THEN NULL
            ELSE list_contains(e.domains, a.domain) END AS domain_hit
    FROM applied AS a
    JOIN removal_rule_exclusions AS e ON e.rule_id = a.rule_id
),

excluded AS (
    SELECT
        _row,
        variant,
        string_agg(basis, '；' ORDER BY basis) FILTER (WHERE kinds_hit AND domain_hit) AS exclusion_basis,
        list_distinct(flatten(list(list_filter([
            CASE WHEN kinds_hit IS NULL THEN 'penalty_kinds' END,
            CASE WHEN domain_hit IS NULL AND kinds_hit IS NOT FALSE THEN 'domain' END
        ], lambda f: f IS NOT NULL)) FILTER (WHERE (kinds_hit AND domain_hit) IS NULL))) AS exclusion_needs
    FROM exclusion_checks
    GROUP BY _row, variant
),

dated AS (
    SELECT
        a.*,
        x.exclusion_basis,
        -- an exclusion that applies settles it; one that cannot be decided leaves the early path unknown
        CASE WHEN x.exclusion_basis IS NULL AND len(x.exclusion_needs) > 0 THEN x.exclusion_needs END
            AS exclusion_needs,
        CASE WHEN a.published THEN
            CAST(a.start_on + to_months(
                CASE WHEN a.term_stretches THEN greatest(a.max_display_months, a.term_years * 12)
                    ELSE a.max_display_months END
            ) AS DATE)
        END AS period_end,
        CASE WHEN a.min_display_months > 0
            THEN CAST(a.start_on + to_months(a.min_display_months) AS DATE) + 1
            ELSE a.start_on
        END AS minimum_on,
        CAST(a.start_on + to_months(a.escalation_months) AS DATE) + 1 AS escalation_due,
        a.published AND a.min_display_months IS NOT NULL AND x.exclusion_basis IS NULL AS has_early_path,
        CASE a.conditions_mode
            WHEN 'any' THEN
                (list_contains(a.conditions, 'obligations_performed') AND a.obligations_ok)
                OR (list_contains(a.conditions, 'cause_corrected') AND a.corrected_ok)
            ELSE
                (NOT list_contains(a.conditions, 'obligations_performed') OR a.obligations_ok)
                AND (NOT list_contains(a.conditions, 'cause_corrected') OR a.corrected_ok)
        END AS conditions_met,
        CASE a.conditions_mode
            WHEN 'any' THEN least(
                CASE WHEN list_contains(a.conditions, 'obligations_performed') AND a.obligations_ok
                    THEN a.obligations_done_date END,
                CASE WHEN list_contains(a.conditions, 'cause_corrected') AND a.corrected_ok
                    THEN a.corrected_date END
            )
            ELSE greatest(
                CASE WHEN list_contains(a.conditions, 'obligations_performed') THEN a.obligations_done_date END,
                CASE WHEN list_contains(a.conditions, 'cause_corrected') THEN a.corrected_date END
            )
        END AS conditions_met_on
    FROM applied AS a
    LEFT JOIN excluded AS x USING (_row, variant)
),

kept AS (
    SELECT
        *,
        -- 电信不良名单: a new administrative penalty decided after the listing and by the end of the period
        -- (and known by the as-of date) keeps the entry listed
        kept_by_new_penalty AND new_penalty_date > start_on AND new_penalty_date <= period_end
            AND new_penalty_date <= __AS_OF__ AS kept_listed
    FROM dated
),

judged AS (
    SELECT
        *,
        coalesce(
            choice_error,
            CASE WHEN term_years IS NOT NULL AND term_years_min IS NOT NULL
                AND term_years NOT BETWEEN term_years_min AND term_years_max
                THEN 'term_years ' || term_years || ' is outside the ' || term_years_min || '–' || term_years_max
                    || ' years rule ' || rule_id || ' allows' END
        ) AS error,
        coalesce(
            choice_unknown,
            CASE WHEN rule_id IS NOT NULL AND published AND start_on IS NULL
                THEN 'unknown: needs ' || start_col || ' (the display clock of ' || rule_id || ' starts there)' END
        ) AS unknown_reason,
        CASE WHEN NOT coalesce(kept_listed, FALSE) THEN period_end END AS display_until_on,
        CASE WHEN has_early_path AND conditions_met AND exclusion_needs IS NULL
            THEN greatest(minimum_on, conditions_met_on) END AS early_on
    FROM kept
),

answered AS (
    SELECT
        *,
        display_until_on + 1 AS auto_on,
        CASE
            WHEN error IS NOT NULL THEN NULL
            WHEN unknown_reason IS NOT NULL THEN 'unknown'
            WHEN NOT published THEN 'not_published'
            WHEN display_until_on IS NOT NULL AND __AS_OF__ > display_until_on THEN 'expired'
            WHEN exclusion_needs IS NOT NULL THEN 'unknown'
            WHEN NOT has_early_path THEN 'barred'
            WHEN NOT conditions_met THEN 'conditions_unmet'
            WHEN __AS_OF__ >= early_on THEN 'eligible'
            ELSE 'waiting'
        END AS status
    FROM judged
),

finished AS (
    SELECT
        *,
        CASE WHEN status IN ('eligible', 'waiting') THEN early_on END AS early_removal_from,
        CASE WHEN status NOT IN ('unknown', 'not_published') OR (status = 'unknown' AND unknown_reason IS NULL)
            THEN auto_on END AS auto_removal_on,
        CASE WHEN status NOT IN ('unknown', 'not_published') OR (status = 'unknown' AND unknown_reason IS NULL)
            THEN display_until_on END AS display_until,
        -- the day the body's deadline counts from: the term's last day, or the day the conditions were met
        CASE
            WHEN status IS NULL OR status IN ('unknown', 'not_published') THEN NULL
            WHEN deletion_after = 'term_end' THEN display_until_on
            WHEN deletion_after = 'conditions' AND has_early_path AND conditions_met THEN early_on
        END AS deadline_from
    FROM answered
),

deadlines AS (
    SELECT
        f._row,
        f.variant,
        d.day AS removal_deadline,
        CASE WHEN f.deadline_from IS NOT NULL AND d.day IS NULL THEN
            'removal_deadline: ' || replace(__CALENDAR_MISSING__, '{year}', CAST(
                CASE WHEN f.deadline_from < (SELECT min(day) FROM removal_calendar)
                        OR f.deadline_from > (SELECT max(day) FROM removal_calendar)
                    THEN year(f.deadline_from)
                    ELSE year((SELECT max(day) FROM removal_calendar)) + 1 END AS VARCHAR))
        END AS deadline_note
    FROM finished AS f
    LEFT JOIN removal_calendar AS s ON s.day = f.deadline_from
    LEFT JOIN removal_calendar AS d ON d.is_working AND d.working_index = s.working_index + f.deletion_working_days
    WHERE f.deadline_from IS NOT NULL
),

results AS (
    SELECT
        f.*,
        dl.removal_deadline,
        CASE WHEN f.error IS NULL THEN
            f.basis
            || coalesce('；' || f.exclusion_basis, '')
            || CASE WHEN f.unconfirmed_from IS NOT NULL AND __AS_OF__ >= f.unconfirmed_from
                THEN '；unconfirmed: ' || f.unconfirmed_reason ELSE '' END
            || CASE WHEN f.fine_tested AND f.threshold_is_default
                THEN '；较低数额罚款 threshold: default (湖北 figures), unconfirmed for this province' ELSE '' END
            || CASE WHEN f.kept_listed
                THEN '；unconfirmed: when a listing kept by a new penalty ends is not stated' ELSE '' END
        END AS full_basis,
        CASE
            WHEN f.error IS NOT NULL OR f.rule_id IS NULL THEN NULL
            WHEN f.confidence = 'unconfirmed'
                OR (f.unconfirmed_from IS NOT NULL AND __AS_OF__ >= f.unconfirmed_from)
                OR (f.fine_tested AND f.threshold_is_default)
                OR f.kept_listed
                THEN 'unconfirmed'
            ELSE 'confirmed'
        END AS full_confidence,
        list_filter([
            f.unknown_reason,
            CASE WHEN f.unknown_reason IS NULL AND f.exclusion_needs IS NOT NULL
                THEN 'unknown: needs ' || array_to_string(list_sort(f.exclusion_needs), ', ')
                    || ' (an exclusion from early removal depends on it)' END,
            CASE WHEN f.kept_listed
                THEN 'kept listed: new administrative penalty ' || coalesce(f.new_penalty_reference, '(no reference)')
                    || ' decided ' || f.new_penalty_date || ', within the year after listing' END,
            CASE WHEN f.kept_by_new_penalty AND f.status IS NOT NULL AND f.status <> 'unknown'
                AND NOT coalesce(f.kept_listed, FALSE)
                THEN 'no new administrative penalty on record after the listing' || CASE
                    WHEN __AS_OF__ <= f.period_end
                        THEN ' so far (one decided by ' || f.period_end || ' would keep it listed)'
                    ELSE ' within the year' END END,
            CASE WHEN len(f.assumptions) > 0 THEN 'assumed: ' || array_to_string(list_transform(f.assumptions,
                lambda a: a || '=' || CASE a WHEN 'domain' THEN coalesce(f.assumed_domain, '')
                    ELSE coalesce(f.assumed_severity, '') END), ', ')
                || ' (not published by the registry; our default reading)' END,
            dl.deadline_note
        ], lambda m: m IS NOT NULL) AS notes,
        -- The last as-of date on which this answer is certain to stay as it is (NULL: it never changes). Every
        -- comparison with the as-of date above flips at most once as the date moves on; each term is the day
        -- before one that has not flipped yet would (or the as-of date itself when a message quotes it).
        CASE WHEN f.quotes_as_of THEN __AS_OF__ ELSE least(
            CASE WHEN f.obligations_done_date > __AS_OF__ THEN f.obligations_done_date - 1 END,  -- obligations_ok
            CASE WHEN f.corrected_date > __AS_OF__ THEN f.corrected_date - 1 END,  -- corrected_ok
            CASE WHEN f.new_penalty_date > __AS_OF__ THEN f.new_penalty_date - 1 END,  -- kept_listed
            CASE WHEN f.display_until_on >= __AS_OF__ THEN f.display_until_on END,  -- expired
            CASE WHEN f.early_on > __AS_OF__ THEN f.early_on - 1 END,  -- eligible (else waiting)
            CASE WHEN f.unconfirmed_from > __AS_OF__ THEN f.unconfirmed_from - 1 END,  -- basis, confidence
            CASE WHEN f.period_end >= __AS_OF__ THEN f.period_end END  -- reason: "so far" / "within the year"
        ) END AS stable_until
    FROM finished AS f
    LEFT JOIN deadlines AS dl USING (_row, variant)
),

main AS (SELECT * FROM results WHERE variant = 'main'),
alt AS (SELECT * FROM results WHERE variant = 'alt')

SELECT
    m.record_id,
    m.status,
    m.early_removal_from,
    m.auto_removal_on,
    m.display_until,
    -- an uncorrected listing moves to the harsher list; a correction before that date cancels it
    CASE WHEN m.error IS NULL AND m.status <> 'unknown' AND m.escalation_months IS NOT NULL
        AND NOT (m.corrected_ok AND m.corrected_date < m.escalation_due) THEN m.escalation_due END AS escalation_on,
    m.removal_deadline,
    CASE WHEN m.error IS NULL THEN m.rule_id END AS rule_id,
    m.full_basis AS basis,
    m.full_confidence AS confidence,
    CASE WHEN m.alternative_label IS NOT NULL AND m.error IS NULL THEN a.rule_id END AS alt_rule_id,
    CASE WHEN m.alternative_label IS NOT NULL AND m.error IS NULL THEN a.early_removal_from END
        AS alt_early_removal_from,
    CASE WHEN m.alternative_label IS NOT NULL AND m.error IS NULL THEN a.auto_removal_on END
        AS alt_auto_removal_on,
    CASE WHEN m.error IS NULL THEN nullif(array_to_string(list_concat(
        m.notes,
        CASE WHEN m.alternative_label IS NOT NULL THEN list_transform(
            list_filter(list_concat([a.error], a.notes), lambda n: n IS NOT NULL),
            lambda n: m.alternative_label || ' alternative: ' || n) END
    ), '; '), '') END AS reason,
    m.error
    __STABLE_UNTIL__
FROM main AS m
LEFT JOIN alt AS a USING (_row)
ORDER BY m._row
