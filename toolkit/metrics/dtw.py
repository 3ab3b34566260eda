"""Dynamic time warping on a frame-distance matrix (numpy).

Step pattern (1,0), (0,1), (1,1), each step adding the cost of the cell it enters
(dtw-python's `symmetric1`): D[i, j] = cost[i, j] + min(D[i-1, j-1], D[i-1, j], D[i, j-1]),
D[0, 0] = cost[0, 0]; the path runs from (0, 0) to (N-1, M-1). The cells of one
anti-diagonal (i + j = k) depend only on the two before it, so the recursion runs one
vectorised step per anti-diagonal (N + M - 1 steps) and gives exactly the sums of the
cell-by-cell recursion. Ties in the backtrace prefer the diagonal, then (i-1, j), then (i, j-1).
"""
import numpy as np

# Predecessor offsets in tie-break order: diagonal, vertical (i-1), horizontal (j-1).
_STEPS = np.array([[1, 1], [1, 0], [0, 1]])


def accumulated_cost(cost):
    """(D [N, M] accumulated cost, step [N, M] index into _STEPS of each cell's best predecessor)."""
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or 0 in cost.shape:
        raise ValueError(f"DTW needs a non-empty 2-D cost matrix, got shape {cost.shape}")
    rows, cols = cost.shape
    padded = np.full((rows + 1, cols + 1), np.inf)  # padded[i + 1, j + 1] = D[i, j]
    padded[0, 0] = 0.0
    step = np.zeros((rows, cols), dtype=np.int8)
    for k in range(rows + cols - 1):
        i = np.arange(max(0, k - cols + 1), min(rows, k + 1))
        j = k - i
        candidates = np.stack([padded[i, j], padded[i, j + 1], padded[i + 1, j]])
        best = candidates.argmin(0)
        padded[i + 1, j + 1] = cost[i, j] + candidates[best, np.arange(len(i))]
        step[i, j] = best
    return padded[1:, 1:], step


def dtw(cost):
    """(total cost, path [L, 2] of (i, j) index pairs from (0, 0) to (N-1, M-1)) of a cost matrix [N, M]."""
    total, step = accumulated_cost(cost)
    i, j = total.shape[0] - 1, total.shape[1] - 1
    path = [(i, j)]
    while i or j:  # on the first row / column the only finite predecessor was chosen
        di, dj = _STEPS[step[i, j]]
        i, j = i - di, j - dj
        path.append((i, j))
    return float(total[-1, -1]), np.array(path[::-1])
