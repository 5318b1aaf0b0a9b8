#!/bin/sh
# Makes a directory of es-* wrappers that run the real programs under
# valgrind; any memory error or definite leak fails the program (status 99),
# and so the test. Usage: valgrind-bin.sh REALBIN OUTDIR
real=$1 out=$2
mkdir -p "$out"
for p in "$real"/es-*; do
	[ -x "$p" ] || continue
	name=$(basename "$p")
	cat > "$out/$name" <<EOW
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \
	"$p" "\$@"
EOW
	chmod +x "$out/$name"
done
