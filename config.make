# Sourced by nginx's configure after the Makefile is written (see `config`):
# the rule that builds the Rust code as a static library against this nginx
# tree. cargo tracks the Rust sources itself, so make always asks it.

api_abuse_tree=$(pwd)

cat << END                                                    >> $NGX_MAKEFILE

.API_ABUSE_CARGO: ;

$api_abuse_lib: .API_ABUSE_CARGO
	cd "$ngx_addon_dir" && \\
	NGINX_BUILD_DIR="$api_abuse_tree/$NGX_OBJS" NGINX_SOURCE_DIR="$api_abuse_tree" \\
	$api_abuse_cargo rustc --lib --crate-type staticlib --profile $api_abuse_profile \\
		--no-default-features --features ngx-glue \\
		--target-dir "$api_abuse_tree/$api_abuse_target_dir"

END

# A dynamic module without C sources: make the .so depend on the library.
if [ "$api_abuse_link" = DYNAMIC ]; then
    cat << END                                                >> $NGX_MAKEFILE
$NGX_OBJS${ngx_dirsep}ngx_http_api_abuse_module$ngx_modext: $api_abuse_lib

END
fi
