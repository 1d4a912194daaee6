"""Everything obook draws: pure functions from books and view state to Rich
renderables for a given width and height (no I/O, no clocks, no globals).

    theme      the colours (one object, passed explicitly)
    layout     the one layout helper: whole items on a line, whole columns in a width
    numbers    how prices, amounts and notionals are written
    header     the header line every view shares
    keys       the key map (key -> action) and the `?` help built from it
    ladder     the single-source ladder
    chart, heatmap (with scales, canvas)   the pictures
    boards     several sources: side by side, merged
    choose     the one place that picks which view draws
    svg        `snapshot --svg`
    venue_list `obook venues`
"""
