#pragma once
// The Python the python tool puts beside the model's code (read-only, at /run/muse): a runner
// that executes the code and shortens its tracebacks, and a matplotlib backend whose show()
// saves every open figure as PNG into /run/muse-out, which only the host reads.

namespace muse::agent {

inline constexpr const char * PYTHON_FIGURE_CAPTURE = R"PY(import os, sys

OUT = '/run/muse-out'
MAX = int(os.environ.get('MUSE_MAX_FIGURES', '8'))
count = 0


def save_figures():
    global count
    plt = sys.modules.get('matplotlib.pyplot')
    if plt is None:
        return
    for num in plt.get_fignums():
        if count >= MAX:
            print('[more figures than the %d a call returns: the rest were dropped]' % MAX, file=sys.stderr)
            break
        count += 1
        try:
            plt.figure(num).savefig('%s/figure-%d.png' % (OUT, count), format='png')
        except Exception as e:
            print('[figure %s could not be saved: %s]' % (num, e), file=sys.stderr)
    plt.close('all')
)PY";

// MPLBACKEND=module://muse_backend: Agg drawing, show() hands the figures to the host.
inline constexpr const char * PYTHON_BACKEND =
    R"PY(from matplotlib.backend_bases import FigureManagerBase as FigureManager
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas

import muse_capture


def show(*args, **kwargs):
    muse_capture.save_figures()
)PY";

inline constexpr const char * PYTHON_RUNNER = R"PY(import linecache, sys, traceback

sys.path.insert(0, '/mnt/data')
sys.argv = ['<code>']
import muse_capture

with open('/run/muse/code.py', encoding='utf-8', errors='replace') as f:
    src = f.read()
linecache.cache['<code>'] = (len(src), None, src.splitlines(True), '<code>')
scope = {'__name__': '__main__', '__builtins__': __builtins__}
status = 0
try:
    exec(compile(src, '<code>', 'exec'), scope)
except SystemExit:
    raise
except BaseException as e:
    traceback.print_exception(type(e), e, e.__traceback__.tb_next)
    status = 1
finally:
    muse_capture.save_figures()
sys.exit(status)
)PY";

}  // namespace muse::agent
