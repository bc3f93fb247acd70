import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.rowbuffer import RowBuffer

rows_st = st.lists(st.tuples(st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                             st.booleans()), max_size=60)


@pytest.mark.nojit
@given(rows=rows_st, cuts=st.sets(st.integers(0, 60)))
def test_rows_survive_compaction_at_any_point(rows, cuts):
    buf = RowBuffer(3)
    for k, row in enumerate(rows):
        if k in cuts:
            buf.compact()
        buf.extend(row)
    assert len(buf) == len(rows)
    got = buf.array()
    want = np.array(rows, dtype=np.float64).reshape(len(rows), 3)
    np.testing.assert_array_equal(got, want)  # NaN compares equal here; ints and flags are exact


@pytest.mark.nojit
def test_extra_rows_come_last_and_are_not_stored():
    buf = RowBuffer(2)
    buf.extend((1, 2.5))
    out = buf.array([(3, float("nan"))])
    np.testing.assert_array_equal(out, [[1, 2.5], [3, np.nan]])
    assert len(buf) == 1 and buf.array().shape == (1, 2)


@pytest.mark.nojit
def test_empty_buffer_has_the_right_shape():
    assert RowBuffer(9).array().shape == (0, 9)


@pytest.mark.nojit
def test_partial_row_and_bad_width_fail_loudly():
    buf = RowBuffer(3)
    buf.extend((1, 2))
    with pytest.raises(ValueError, match="do not make rows of 3"):
        buf.compact()
    with pytest.raises(ValueError, match="width must be at least 1"):
        RowBuffer(0)
