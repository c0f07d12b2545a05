# python3-scipy depends on python3-pythran, a compiler used only when building scipy, which pulls in
# gcc, g++, the boost and Python headers and static BLAS: over 500 MB that nothing imports at run time.
# They are purged here ignoring that dependency (the image is read-only; apt never runs in it again).
# The run-time libraries the extensions link (libgfortran5, libquadmath0, libgomp1, libstdc++6,
# openblas) stay; the conformance program imports every library to prove it.
dpkg --purge --force-depends \
  python3-pythran python3-beniget python3-gast libboost-dev libboost1.74-dev libxsimd-dev \
  g++ g++-12 gcc gcc-12 cpp cpp-12 libstdc++-12-dev libgcc-12-dev libc6-dev libc-dev-bin linux-libc-dev \
  libcrypt-dev libnsl-dev libtirpc-dev rpcsvc-proto libasan8 liblsan0 libtsan2 libubsan1 libitm1 libcc1-0 \
  libisl23 libmpc3 libmpfr6 binutils binutils-common binutils-x86-64-linux-gnu libbinutils libctf0 \
  libctf-nobfd0 libgprofng0 libjansson4 python3-all python3-all-dev libpython3-all-dev python3-dev \
  python3.11-dev libpython3-dev libpython3.11-dev libexpat1-dev zlib1g-dev libopenblas-dev \
  libopenblas-pthread-dev
python3 -c 'import numpy, pandas, scipy.linalg, scipy.optimize, sklearn.linear_model, sympy, matplotlib.pyplot'
