-- Removal status of negative credit records (停止公示 / 信用修复), one row per case.
-- Inputs: __CASES__ (the caller's cases relation, CASE_COLUMNS + province, subject_type),
--         __AS_OF__ (a DATE literal), and the temp tables loaded from rules.yaml and
--         low_fine_thresholds.csv by engine.install_rules.
-- Months are calendar months with month-end clamping (2024-08-31 + 6 months = 2025-02-28).
-- A predicate that cannot be decided because a case cell is empty stays NULL (SQL's unknown), so a
-- rule is never chosen on missing data: the case gets an `error` naming the missing column instead.
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
        TRY_CAST(nullif(trim(CAST(decision_date AS VARCHAR)), '') AS DATE) AS decision_date,
        TRY_CAST(nullif(trim(CAST(publish_date AS VARCHAR)), '') AS DATE) AS publish_date,
        TRY_CAST(nullif(trim(CAST(listed_date AS VARCHAR)), '') AS DATE) AS listed_date,
        TRY_CAST(nullif(trim(CAST(obligations_done_date AS VARCHAR)), '') AS DATE) AS obligations_done_date,
        TRY_CAST(nullif(trim(CAST(corrected_date AS VARCHAR)), '') AS DATE) AS corrected_date,
        TRY_CAST(nullif(trim(CAST(term_years AS VARCHAR)), '') AS INTEGER) AS term_years,
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

-- Cells that are present but cannot be read: reported before any rule is tried.
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
                CASE WHEN term_raw IS NOT NULL AND (term_years IS NULL OR term_years < 1)
                    THEN 'term_years is not a whole number of years >= 1: ' || term_raw END,
                CASE WHEN subject_type NOT IN ('organisation', 'person')
                    THEN 'subject_type must be organisation or person: ' || subject_type END
            ],
            lambda m: m IS NOT NULL
        ) AS problems
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

pairs AS (
    SELECT
        c._row,
        r.rule_id,
        r.priority,
        r.low_fine_only,
        CASE r.regime_date
            WHEN 'decision' THEN 'decision_date' WHEN 'publication' THEN 'publish_date' ELSE 'listed_date'
        END AS regime_col,
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
        (CASE r.regime_date
            WHEN 'decision' THEN c.decision_date WHEN 'publication' THEN c.publish_date ELSE c.listed_date
        END) AS regime_on,
        r.effective_from,
        r.effective_to,
        coalesce(list_contains(c.kinds, 'fine'), FALSE) AS has_fine
    FROM cases_fine AS c
    CROSS JOIN removal_rules AS r
),

pairs_judged AS (
    SELECT
        *,
        CASE WHEN regime_on IS NULL THEN NULL
            ELSE regime_on >= coalesce(effective_from, DATE '0001-01-01')
                AND (effective_to IS NULL OR regime_on < effective_to)
        END AS p_regime
    FROM pairs
    WHERE p_base
),

candidates AS (
    SELECT
        _row,
        rule_id,
        priority,
        p_severity AND p_domain AND p_kinds_all AND p_kinds_any AND p_fine AND p_term AND p_regime AS matched,
        list_filter(
            [
                CASE WHEN p_severity IS NULL THEN 'severity' END,
                CASE WHEN p_domain IS NULL THEN 'domain' END,
                CASE WHEN p_kinds_all IS NULL OR p_kinds_any IS NULL THEN 'penalty_kinds' END,
                CASE WHEN p_fine IS NULL THEN 'fine_amount_yuan' END,
                CASE WHEN p_regime IS NULL THEN regime_col END
            ],
            lambda m: m IS NOT NULL
        ) AS missing,
        -- the fine threshold took part in choosing the rule (then the threshold's confidence counts)
        low_fine_only AND has_fine
            AND coalesce(p_severity AND p_domain AND p_kinds_all AND p_kinds_any AND p_term AND p_regime, FALSE)
            AS fine_tested
    FROM pairs_judged
),

top_candidates AS (
    SELECT *
    FROM candidates
    WHERE matched IS NOT FALSE
    QUALIFY rank() OVER (PARTITION BY _row ORDER BY priority DESC) = 1
),

-- Why a case fell outside every rule's regime window, for the error message.
regime_misses AS (
    SELECT
        _row,
        string_agg(
            DISTINCT regime_col || ' ' || CAST(regime_on AS VARCHAR) || ' is outside ' || rule_id || ' ('
            || CASE
                WHEN effective_from IS NULL THEN 'before ' || CAST(effective_to AS VARCHAR)
                WHEN effective_to IS NULL THEN 'from ' || CAST(effective_from AS VARCHAR)
                ELSE 'from ' || CAST(effective_from AS VARCHAR) || ' before ' || CAST(effective_to AS VARCHAR)
            END || ')',
            '; '
        ) AS misses
    FROM pairs_judged
    WHERE p_regime IS FALSE
        AND (p_severity AND p_domain AND p_kinds_all AND p_kinds_any AND p_fine AND p_term) IS NOT FALSE
    GROUP BY _row
),

fine_flags AS (
    SELECT _row, bool_or(fine_tested) AS fine_tested
    FROM candidates
    GROUP BY _row
),

choice AS (
    SELECT
        c._row,
        coalesce(any_value(f.fine_tested), FALSE) AS fine_tested,
        count(t.rule_id) FILTER (WHERE t.matched) AS n_matched,
        count(t.rule_id) FILTER (WHERE t.matched IS NULL) AS n_undecided,
        min(t.rule_id) FILTER (WHERE t.matched) AS rule_id,
        string_agg(t.rule_id, ', ' ORDER BY t.rule_id) AS top_rules,
        list_distinct(flatten(list(t.missing) FILTER (WHERE t.matched IS NULL))) AS missing
    FROM cases AS c
    LEFT JOIN top_candidates AS t USING (_row)
    LEFT JOIN fine_flags AS f USING (_row)
    GROUP BY c._row
),

chosen AS (
    SELECT
        c.*,
        ch.fine_tested,
        ch.rule_id AS chosen_rule_id,
        b.problems,
        CASE
            WHEN len(b.problems) > 0 THEN array_to_string(b.problems, '; ')
            WHEN ch.n_undecided > 0
                THEN 'cannot choose a removal rule (' || ch.top_rules || '): needs '
                    || array_to_string(list_sort(ch.missing), ', ')
            WHEN ch.n_matched = 0
                THEN 'no removal rule covers platform=' || coalesce(c.platform, '(empty)')
                    || ', record_type=' || coalesce(c.record_type, '(empty)')
                    || coalesce(', penalty_kinds=' || array_to_string(c.kinds, '|'), '')
                    || coalesce(', severity=' || c.severity, '')
                    || coalesce(': ' || m.misses, '')
            WHEN ch.n_matched > 1 THEN 'rules overlap, fix rules.yaml: ' || ch.top_rules
        END AS choice_error
    FROM cases_fine AS c
    JOIN choice AS ch USING (_row)
    JOIN bad_cells AS b USING (_row)
    LEFT JOIN regime_misses AS m USING (_row)
),

applied AS (
    SELECT
        c._row,
        c.record_id,
        c.kinds,
        c.domain,
        c.obligations_done_date,
        c.corrected_date,
        c.term_years,
        c.threshold_is_default,
        c.fine_tested,
        c.choice_error,
        r.*,
        CASE r.clock_start
            WHEN 'decision' THEN c.decision_date WHEN 'publication' THEN c.publish_date ELSE c.listed_date
        END AS start_on,
        CASE r.clock_start
            WHEN 'decision' THEN 'decision_date' WHEN 'publication' THEN 'publish_date' ELSE 'listed_date'
        END AS start_col,
        -- a condition counts only once its date has been reached
        coalesce(c.obligations_done_date <= __AS_OF__, FALSE) AS obligations_ok,
        coalesce(c.corrected_date <= __AS_OF__, FALSE) AS corrected_ok
    FROM chosen AS c
    LEFT JOIN removal_rules AS r ON r.rule_id = c.chosen_rule_id
),

excluded AS (
    SELECT
        a._row,
        string_agg(e.basis, '；' ORDER BY e.basis) AS exclusion_basis
    FROM applied AS a
    JOIN removal_rule_exclusions AS e
        ON e.rule_id = a.rule_id
        AND list_has_any(e.kinds, a.kinds)
        AND (e.domains IS NULL OR list_contains(e.domains, a.domain))
    GROUP BY a._row
),

dated AS (
    SELECT
        a.*,
        x.exclusion_basis,
        CASE WHEN a.published THEN
            CAST(a.start_on + to_months(
                greatest(a.max_display_months, CASE WHEN a.max_extends_to_term THEN a.term_years * 12 END)
            ) AS DATE)
        END AS auto_on,
        CAST(a.start_on + to_months(a.min_display_months) AS DATE) AS minimum_on,
        CAST(a.start_on + to_months(a.escalation_months) AS DATE) AS escalation_due,
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
    LEFT JOIN excluded AS x USING (_row)
),

judged AS (
    SELECT
        *,
        coalesce(
            choice_error,
            CASE WHEN published AND start_on IS NULL
                THEN start_col || ' is needed by rule ' || rule_id || ' (its display clock starts there)' END
        ) AS error,
        CASE WHEN has_early_path AND conditions_met THEN greatest(minimum_on, conditions_met_on) END AS early_on
    FROM dated
)

SELECT
    record_id,
    CASE
        WHEN error IS NOT NULL THEN NULL
        WHEN NOT published THEN 'not_published'
        WHEN auto_on IS NOT NULL AND __AS_OF__ >= auto_on THEN 'expired'
        WHEN NOT has_early_path THEN 'barred'
        WHEN NOT conditions_met THEN 'conditions_unmet'
        WHEN __AS_OF__ >= early_on THEN 'eligible'
        ELSE 'waiting'
    END AS status,
    CASE WHEN error IS NULL AND published AND (auto_on IS NULL OR __AS_OF__ < auto_on) THEN early_on END
        AS early_removal_from,
    CASE WHEN error IS NULL THEN auto_on END AS auto_removal_on,
    -- an uncorrected listing moves to the harsher list; a correction before that date cancels it
    CASE WHEN error IS NULL AND escalation_months IS NOT NULL
        AND NOT (corrected_ok AND corrected_date < escalation_due) THEN escalation_due END AS escalation_on,
    CASE WHEN error IS NULL THEN rule_id END AS rule_id,
    CASE WHEN error IS NULL THEN
        basis
        || coalesce('；' || exclusion_basis, '')
        || CASE WHEN unconfirmed_from IS NOT NULL AND __AS_OF__ >= unconfirmed_from
            THEN '；unconfirmed: ' || unconfirmed_reason ELSE '' END
        || CASE WHEN fine_tested AND threshold_is_default
            THEN '；较低数额罚款 threshold: default (湖北 figures), unconfirmed for this province' ELSE '' END
    END AS basis,
    CASE
        WHEN error IS NOT NULL THEN NULL
        WHEN confidence = 'unconfirmed'
            OR (unconfirmed_from IS NOT NULL AND __AS_OF__ >= unconfirmed_from)
            OR (fine_tested AND threshold_is_default)
            THEN 'unconfirmed'
        ELSE 'confirmed'
    END AS confidence,
    error
FROM judged
ORDER BY _row
